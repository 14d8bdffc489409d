"""Importing from the GitHub API (issues/github.py, api.py, store.py) against a real local HTTP
server (fake_github.py): complete, exact after every kind of fault, incremental, bounded by
`until`, polite with rate limits, and never leaking the token."""

import copy
import dataclasses
import json
import time

import pytest

from fake_github import FAULTS, REPO, TOKEN, FakeGitHub, synthetic_issues
from {{ cookiecutter.package_name }}.core import files
from {{ cookiecutter.package_name }}.core.config import ConfigError, load_config, parse_time
from {{ cookiecutter.package_name }}.issues import api, github
from {{ cookiecutter.package_name }}.issues.records import SourceError
from {{ cookiecutter.package_name }}.issues.store import IssueStore

ISSUES = synthetic_issues(2000, seed=1)


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)


@pytest.fixture
def fake():
    """A fresh server per test: faults, budgets and edits stay in their test."""
    with FakeGitHub(copy.deepcopy(ISSUES)) as server:
        yield server


def options(default_config, server, tmp_path, **changes):
    """Import options for `server`, with tiny waits so that faults cost milliseconds."""
    fast = dict(
        repo=REPO, api_url=server.url, cache_dir=str(tmp_path / "cache"), backoff_seconds=0.01, timeout_seconds=0.5
    )
    return dataclasses.replace(default_config.import_.github, **(fast | changes))


class Terminal(list):
    """What the import says on the terminal, one line each."""

    def __call__(self, line):
        self.append(line)

    def text(self):
        return "\n".join(self)


def run_import(default_config, server, tmp_path, **changes):
    said = Terminal()
    records = github.import_issues(options(default_config, server, tmp_path, **changes), say=said)
    return records, said


@pytest.fixture(scope="module")
def clean(default_config, tmp_path_factory):
    """The records of an import with no fault: what every other import must equal."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_TOKEN", TOKEN)
        with FakeGitHub(copy.deepcopy(ISSUES)) as server:
            return run_import(default_config, server, tmp_path_factory.mktemp("clean"))[0]


# --- a complete import -------------------------------------------------------------------------


def test_every_issue_once_with_every_field(clean):
    numbers = [record["number"] for record in clean]
    assert numbers == sorted(issue["number"] for issue in ISSUES)  # all, ordered, none twice
    assert numbers[-1] > len(numbers)  # numbers have gaps (pull requests), and nothing assumed otherwise
    by_number = {record["number"]: record for record in clean}
    for issue in ISSUES[10:20]:
        record = by_number[issue["number"]]
        assert record["title"] == issue["title"]
        assert record["body"] == issue["body"]
        assert record["labels"] == issue["labels"]
        assert record["state"] == issue["state"].lower()
        assert (record["created_at"], record["updated_at"], record["closed_at"]) == (
            issue["createdAt"],
            issue["updatedAt"],
            issue["closedAt"],
        )
        assert record["author"] == issue["author"]
        assert record["assignees"] == issue["assignees"]
        assert [(e["label"], e["actor"], e["created_at"]) for e in record["label_events"]] == [
            (e["label"], e["actor"], e["createdAt"]) for e in issue["events"]
        ]


def test_awkward_issues(clean):
    long, many, big, broken, ghost, deleted = (clean[i] for i in range(6))
    assert len(long["label_events"]) == 150  # timeline pages past the first
    assert [event["type"] for event in long["label_events"][:2]] == ["added", "removed"]
    assert len(many["labels"]) == 120  # label pages past the first
    assert len(big["body"]) == 3_000_000
    assert "\ufffd" in broken["body"] and broken["body"].endswith("then more text")  # invalid UTF-8 replaced
    json.dumps(broken, ensure_ascii=False).encode("utf-8")  # and writable
    assert ghost["author"] == "ghost" and ghost["label_events"][0]["actor"] == "ghost"
    assert deleted["label_events"][-1]["label"] is None  # an event of a deleted label, kept
    names = {name for record in clean for name in record["labels"]}
    assert {"area/editor", "good first issue", "🐛 crash"} <= names


def test_the_import_says_how_far_it_is(default_config, fake, tmp_path):
    _, said = run_import(default_config, fake, tmp_path, page_size=100)
    assert said[0] == f"{REPO}: fetching every issue"
    assert f"{REPO}: 100/2,000 issues fetched, about " in said.text()
    assert said[-1] == f"{REPO}: 2,000/2,000 issues fetched"


# --- faults ------------------------------------------------------------------------------------

EXPECTED_MESSAGE = {
    "primary_403": "primary rate limit exhausted (HTTP 403): waiting",
    "secondary_429": "secondary rate limit (HTTP 429): waiting 0.2 s",
    "secondary_403": "secondary rate limit (HTTP 403): waiting 0.2 s",
    "rate_limited": "primary rate limit exhausted: waiting",
    "bad_gateway": "HTTP 502 from GitHub",
    "reset": "no complete answer",
    "truncated": "no complete answer",
    "slow": "no complete answer",
    "malformed_json": "malformed JSON from GitHub",
    "missing_fields": "came without updatedAt",
    "graphql_error": "GitHub could not answer the query (Something went wrong",
}


@pytest.mark.parametrize("kind", FAULTS)
def test_each_fault_mid_import_changes_nothing(default_config, fake, tmp_path, clean, kind):
    fake.inject(kind, after=4)
    records, said = run_import(default_config, fake, tmp_path)
    assert fake.faults_served[kind] == 1
    assert EXPECTED_MESSAGE[kind] in said.text()
    assert records == clean


def test_faults_on_the_follow_up_queries_too(default_config, fake, tmp_path, clean):
    """The first page's issues need more label and timeline pages: requests 2 and 3."""
    fake.inject("bad_gateway", "truncated", after=1)
    records, _ = run_import(default_config, fake, tmp_path)
    assert sum(fake.faults_served.values()) == 2
    assert records == clean


def test_a_fault_every_few_requests(default_config, fake, tmp_path, clean):
    fake.fault_every = 4  # every kind in turn, on pages and follow-ups alike
    records, _ = run_import(default_config, fake, tmp_path, page_size=50)
    assert set(fake.faults_served) == set(FAULTS)
    assert records == clean


def test_a_persistent_fault_gives_up_with_a_clear_message(default_config, fake, tmp_path):
    fake.fault_every, fake.fault_kinds = 1, ("bad_gateway",)
    with pytest.raises(SourceError) as caught:
        run_import(default_config, fake, tmp_path, max_retries=3)
    message = str(caught.value)
    assert "HTTP 502 from GitHub" in message
    assert "gave up after 4 attempts (import.github.max_retries is 3)" in message
    assert fake.requests == 4


def test_a_page_always_missing_fields_is_reported(default_config, fake, tmp_path):
    fake.fault_every, fake.fault_kinds = 1, ("missing_fields",)
    with pytest.raises(SourceError, match=r"issue #\d+ came without updatedAt; gave up after 3 attempts"):
        run_import(default_config, fake, tmp_path, max_retries=2)


def test_backoff_is_exponential_bounded_and_jittered(monkeypatch):
    waits = []
    monkeypatch.setattr(api.time, "sleep", waits.append)
    client = api.GitHubAPI("http://127.0.0.1:9", TOKEN, "octo-org/octo-repo", max_retries=9, backoff=1.0, say=print)

    def always_failing(url, method, payload, missing_ok=False):
        raise api.RetryableError("HTTP 502 from GitHub")

    monkeypatch.setattr(client, "_send", always_failing)
    with pytest.raises(SourceError, match="gave up after 10 attempts"):
        client.query("query", {})
    assert len(waits) == 9
    for attempt, wait in enumerate(waits, start=1):
        assert 0 <= wait <= min(api.MAX_BACKOFF, 2 ** (attempt - 1))
    assert len(set(waits)) == len(waits)  # jittered
    assert client.waited == pytest.approx(sum(waits))


# --- rate limits -------------------------------------------------------------------------------


def test_low_budget_waits_for_the_reset_and_says_so(default_config, tmp_path, clean):
    with FakeGitHub(copy.deepcopy(ISSUES), rate_limit=api.LOW_BUDGET + 5, reset_seconds=0.3) as server:
        records, said = run_import(default_config, server, tmp_path)
        assert server.refused == 0  # it waited instead of being refused
    assert records == clean
    waits = [line for line in said if line.startswith("rate limit: ")]
    assert waits and "points left; waiting" in waits[0] and " UTC" in waits[0]


def test_retry_after_is_honoured(default_config, tmp_path, clean):
    with FakeGitHub(copy.deepcopy(ISSUES), retry_after="0.5") as server:
        server.inject("secondary_429", after=2)
        start = time.monotonic()
        records, said = run_import(default_config, server, tmp_path)
        assert time.monotonic() - start >= 0.5
    assert "secondary rate limit (HTTP 429): waiting 0.5 s" in said
    assert records == clean


# --- errors that no retry can fix: at once, saying which -----------------------------------------


def failure(default_config, server, tmp_path, **changes):
    with pytest.raises(SourceError) as caught:
        run_import(default_config, server, tmp_path, **changes)
    assert TOKEN not in str(caught.value)
    return str(caught.value)


def test_bad_token(default_config, fake, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_not_a_valid_token")
    message = failure(default_config, fake, tmp_path)
    assert message.startswith("bad token: GitHub answered 401 Unauthorized (Bad credentials)")
    assert "GITHUB_TOKEN" in message
    assert fake.requests == 1  # not retried


def test_no_access(default_config, fake, tmp_path, monkeypatch):
    fake.forbidden_tokens.add("ghp_valid_but_not_for_this_repo")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_valid_but_not_for_this_repo")
    message = failure(default_config, fake, tmp_path)
    assert message.startswith("no access: GitHub answered 403 Forbidden (Resource not accessible")
    assert REPO in message
    assert fake.requests == 1


def test_wrong_repo(default_config, fake, tmp_path):
    message = failure(default_config, fake, tmp_path, repo="octo-org/no-such-repo")
    assert message.startswith("wrong repo: GitHub found no repository octo-org/no-such-repo")
    assert "import.github.repo" in message
    assert fake.requests == 1


def test_wrong_api_url(default_config, fake, tmp_path):
    message = failure(default_config, fake, tmp_path, api_url=fake.url + "/v2")
    assert message.startswith("wrong repo or API URL: 404 Not Found from " + fake.url + "/v2/graphql")
    assert "import.github.api_url" in message
    assert fake.requests == 1


def test_no_token(default_config, fake, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    message = failure(default_config, fake, tmp_path)
    assert "GITHUB_TOKEN is not set" in message and "never in config.yaml" in message
    assert fake.requests == 0


def test_enterprise_api_url():
    assert api.graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert api.graphql_url("https://git.example.com/api/v3/") == "https://git.example.com/api/graphql"


# --- incremental -------------------------------------------------------------------------------


def test_a_rerun_fetches_only_what_changed_and_merges_it(default_config, fake, tmp_path, clean):
    run_import(default_config, fake, tmp_path)
    edited, relabelled = ISSUES[500]["number"], ISSUES[700]["number"]
    fake.edit(edited, title="A better title", body="Edited body")
    old_label = ISSUES[700]["labels"][0] if ISSUES[700]["labels"] else "bug"
    fake.label(relabelled, old_label, "bob", remove=bool(ISSUES[700]["labels"]))
    new = fake.add_issue("Brand new", labels=("bug",))
    before = fake.requests

    records, said = run_import(default_config, fake, tmp_path)

    assert fake.requests - before == 1  # one page held every change
    assert fake.variables[-1]["since"] is not None
    assert "fetching the issues updated since" in said[0]
    by_number = {record["number"]: record for record in records}
    assert [record["number"] for record in records] == sorted(by_number)  # no duplicates
    assert set(by_number) == {record["number"] for record in clean} | {new}
    assert by_number[edited]["title"] == "A better title" and by_number[edited]["body"] == "Edited body"
    assert (old_label in by_number[relabelled]["labels"]) != bool(ISSUES[700]["labels"])
    assert by_number[relabelled]["label_events"][-1]["actor"] == "bob"
    assert by_number[new]["labels"] == ["bug"]
    unchanged = [record for record in records if record["number"] not in (edited, relabelled, new)]
    assert unchanged == [record for record in clean if record["number"] not in (edited, relabelled)]


def test_an_edit_during_the_import_is_not_lost(default_config, fake, tmp_path):
    """An issue updated while the pass runs moves to the end of the order: read again, kept once."""
    first = ISSUES[3]["number"]
    original, edited = fake.answer, []

    def answer_then_edit(query, variables):
        result = original(query, variables)
        nodes = result["data"]["repository"].get("issues", dict(nodes=[]))["nodes"]
        if not edited and any(node["number"] == first for node in nodes):
            fake.edit(first, title="edited mid-import")  # once its page is on the way
            edited.append(first)
        return result

    fake.answer = answer_then_edit
    records, _ = run_import(default_config, fake, tmp_path, page_size=50)
    assert edited and fake.variables[-1]["after"]  # edited while later pages were still to come
    titles = [record["title"] for record in records if record["number"] == first]
    assert titles == ["edited mid-import"]


# --- a reproducible snapshot: import.github.until ------------------------------------------------


def test_until_gives_the_same_file_until_the_snapshot_changes(default_config, fake, tmp_path):
    until = ISSUES[1000]["createdAt"]
    old = next(issue["number"] for issue in ISSUES[10:] if "documentation" not in issue["labels"])
    open_issue = next(issue["number"] for issue in ISSUES[10:] if issue["state"] == "OPEN")

    def snapshot(path, at=until):
        records, _ = run_import(default_config, fake, tmp_path, until=at)
        files.write_jsonl(path, records)
        return records, path.read_bytes()

    records, first = snapshot(tmp_path / "a.jsonl")
    assert max(record["created_at"] for record in records) <= until
    assert len(records) == 1001
    assert all("updated_at" not in record for record in records)
    assert all(event["created_at"] <= until for record in records for event in record["label_events"])

    # after `until`: a new label on an old issue, one closed, a comment (an update), a new issue
    fake.label(old, "documentation", "carol")
    fake.close(open_issue)
    fake.edit(ISSUES[20]["number"])
    fake.add_issue("After the snapshot")
    _, again = snapshot(tmp_path / "b.jsonl")
    assert again == first

    latest, _ = run_import(default_config, fake, tmp_path)  # no until: everything as it is now
    assert "documentation" in next(record for record in latest if record["number"] == old)["labels"]
    later, moved = snapshot(tmp_path / "c.jsonl", at="2100-01-01T00:00:00Z")
    assert moved != first and len(later) == len(ISSUES) + 1


def test_as_of_undoes_label_changes_after_until():
    record = {
        "number": 1,
        "labels": ["bug", "area/editor"],
        "label_events": [
            {"type": "added", "label": "question", "actor": "a", "created_at": "2024-01-01T00:00:00Z"},
            {"type": "added", "label": "bug", "actor": "a", "created_at": "2024-01-02T00:00:00Z"},
            {"type": "removed", "label": "question", "actor": "b", "created_at": "2024-03-01T00:00:00Z"},
            {"type": "added", "label": "area/editor", "actor": "b", "created_at": "2024-03-02T00:00:00Z"},
        ],
        "state": "closed",
        "closed_at": "2024-04-01T00:00:00Z",
        "updated_at": "2024-04-01T00:00:00Z",
    }
    then = github.as_of(record, "2024-02-01T00:00:00Z")
    assert then["labels"] == ["bug", "question"]
    assert len(then["label_events"]) == 2
    assert (then["state"], then["closed_at"]) == ("open", None)
    assert "updated_at" not in then
    assert github.as_of(record, None) is record


# --- the token ---------------------------------------------------------------------------------


def test_the_token_is_in_no_file_and_no_message(default_config, fake, tmp_path, monkeypatch):
    fake.fault_every = 4
    records, said = run_import(default_config, fake, tmp_path)
    files.write_jsonl(tmp_path / "raw.jsonl", records)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN + "x")
    with pytest.raises(SourceError) as caught:
        run_import(default_config, fake, tmp_path)
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) >= 3  # the store and the records
    for path in written:
        assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in said.text() + str(caught.value)


# --- the store: the checkpoint survives a kill at any byte -----------------------------------------


def test_a_line_cut_by_a_kill_is_dropped_and_appending_goes_on(tmp_path):
    store = IssueStore(tmp_path / "store")
    record = {"number": 1, "updated_at": "2024-01-01T00:00:00Z", "title": "a"}
    store.add_page([record], {"format": 1, "pass": dict(cursor="c1")})
    with open(store.pages_path, "a") as handle:
        handle.write('{"number": 2, "updated_at": "2024-01-0')  # the kill came here
    issues, state = store.load()
    assert list(issues) == [1] and state["pass"]["cursor"] == "c1"
    store.add_page([dict(record, number=2)], state)
    assert list(store.load()[0]) == [1, 2]


def test_merging_keeps_the_newest_version(tmp_path):
    store = IssueStore(tmp_path / "store")
    new = {"number": 7, "updated_at": "2024-02-01T00:00:00Z", "title": "new"}
    old = dict(new, updated_at="2024-01-01T00:00:00Z", title="old")
    store.add_page([new, old], {"format": 1})
    assert store.load()[0][7]["title"] == "new"


def test_an_outdated_store_starts_afresh(tmp_path):
    store = IssueStore(tmp_path / "store")
    store.add_page([{"number": 1, "updated_at": "x"}], {"format": 0})
    assert store.load() == ({}, {"format": 1})


# --- config ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("until", "last tuesday", "import.github.until: expected an ISO timestamp"),
        ("repo", "just-a-name", "import.github.repo: expected owner/name"),
        ("api_url", "api.github.com", "import.github.api_url: expected the API root"),
        ("page_size", 500, "import.github.page_size: expected a value <= 100"),
    ],
)
def test_bad_github_settings(config_data, write_config, key, value, words):
    config_data["import"]["github"][key] = value
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(config_data))
    assert any(words in problem for problem in caught.value.problems), caught.value.problems


def test_until_must_be_quoted(config_data, write_config):
    """Unquoted, YAML reads a timestamp as a date, and DVC stops at such a param with no useful message."""
    path = write_config(config_data)
    path.write_text(path.read_text().replace("until: null", "until: 2024-06-30T12:00:00+02:00"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert 'import.github.until: expected a quoted timestamp such as "2024-06-30T12:00:00+02:00"' in problem


def test_until_in_any_iso_form():
    assert parse_time("2024-06-30T12:00:00+02:00") == "2024-06-30T10:00:00Z"
    assert parse_time("2024-06-30") == "2024-06-30T00:00:00Z"
