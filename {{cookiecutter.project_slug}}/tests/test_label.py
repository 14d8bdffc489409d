"""The label command against the stand-in GitHub (tests/fake_github.py, real HTTP): labels applied
exactly as planned, a dry run writes nothing, a re-run is a no-op, labelled issues and pull requests
are left alone, a token without `issues: write` is one clear error, rate limits and 5xx are waited
out, and the token is never shown. The decision rules are checked on hand-made thresholds (fast);
the rest with the promoted tiny model (slow)."""

import copy
import dataclasses
import shutil

import pytest

from conftest import copy_project, package
from fake_github import TOKEN, FakeGitHub, synthetic_issues
from {{ cookiecutter.package_name }}.core import files
from {{ cookiecutter.package_name }}.core.errors import PipelineError
from {{ cookiecutter.package_name }}.label import Decision, Labeller, parse_issues
from {{ cookiecutter.package_name }}.predict import Model

PACKAGE = "{{ cookiecutter.package_name }}"


# --- the rules, on hand-made thresholds (no model) ----------------------------------------------


def test_issue_ranges():
    assert parse_issues("120-123, 201,121") == [120, 121, 122, 123, 201]
    for bad in ("12-10", "x", "0", "1-", "5,,6"):
        with pytest.raises(PipelineError, match="--issues: expected issue numbers and ranges"):
            parse_issues(bad)
    with pytest.raises(PipelineError, match="at most 10,000 issues"):
        parse_issues("1-20000")


@pytest.fixture
def labeller(default_config, tmp_path, monkeypatch):
    """A Labeller on thresholds written by hand: bug reaches 0.80 precision above 0.6, question above
    0.7, docs never (no threshold); no model is loaded, scores are given."""
    monkeypatch.chdir(tmp_path)
    levels = {"bug": 0.6, "question": 0.7, "documentation": None}
    saved = {"model": "blend", "baseline_weight": 0.5, "labels": {
        slug: {"name": slug, "threshold": 0.5, "by_precision": {"0.80": level, "0.90": 0.95}}
        for slug, level in levels.items()
    }}  # fmt: skip
    files.write_json(tmp_path / "thresholds.json", saved)
    unused = tmp_path / "unused"  # the model's other files: not read by the rules
    model = Model(unused, unused, unused, tmp_path / "thresholds.json", unused, unused, default_config.preprocess.text,
                  default_config.encoder, version="v1")  # fmt: skip
    return Labeller(default_config, api=None, model=model)


def options(labeller, **changes):
    labeller.options = dataclasses.replace(labeller.options, **changes)


def decide(labeller, scores, labels=()):
    decision = Decision(1)
    labeller._decide(decision, {"labels": [{"name": name} for name in labels]}, scores)
    return decision


def test_labels_clear_the_threshold_of_their_target_precision(labeller):
    d = decide(labeller, {"bug": 0.61, "question": 0.69, "documentation": 0.99})
    assert d.labels == ["bug"] and d.cleared == {"bug": 0.6}  # docs never reached 0.80: never applied
    assert d.scores == {"bug": 0.61, "question": 0.69, "documentation": 0.99}
    assert decide(labeller, {"bug": 0.1, "question": 0.1, "documentation": 0.1}).labels == []


def test_at_most_max_labels_highest_first_and_the_default_when_none_clears(labeller):
    options(labeller, max_labels=1)
    assert decide(labeller, {"bug": 0.65, "question": 0.9, "documentation": 0}).labels == ["question"]
    options(labeller, default_label="needs-triage")
    assert decide(labeller, {"bug": 0.0, "question": 0.0, "documentation": 0}).labels == ["needs-triage"]
    assert decide(labeller, {"bug": 0.0, "question": 0.0, "documentation": 0}, ["needs-triage"]).labels == []


def test_a_label_can_have_its_own_target_precision(labeller):
    from {{ cookiecutter.package_name }}.core.config import LabelTarget

    options(labeller, per_label={"bug": LabelTarget(target_precision=0.9)})
    d = decide(labeller, {"bug": 0.9, "question": 0.75, "documentation": 0})
    assert d.labels == ["question"] and d.cleared == {"question": 0.7}  # bug needs 0.95 at 0.90


def test_which_issues_are_left_alone(labeller):
    labeller.state.acted["7"] = "v1"
    assert labeller._skip({"number": 5, "pull_request": {"url": "x"}}) == "a pull request"
    assert labeller._skip({"number": 6, "labels": [{"name": "kind/bug"}]}) == "already labelled kind/bug"  # an alias
    assert labeller._skip({"number": 7, "labels": []}) == "already done by model v1"
    assert labeller._skip({"number": 8, "labels": [{"name": "needs-triage"}, {"name": "p1"}]}) is None


# --- against the stand-in GitHub, with the promoted tiny model (slow) ---------------------------


@pytest.fixture
def github(promoted):
    """The stand-in GitHub with the tiny pipeline's test issues opened anew, a pull request and an
    issue a person labelled; yields (server, numbers)."""
    raw = files.read_jsonl(promoted / "data/raw/issues.jsonl")
    processed = {row["number"]: row["split"] for row in files.read_jsonl(promoted / "data/processed/issues.jsonl")}
    test = [issue for issue in raw if processed[issue["number"]] == "test"][:12]
    base = [{**issue, "labels": [], "events": []} for issue in copy.deepcopy(synthetic_issues(3, seed=2))]
    with FakeGitHub(base) as server:
        numbers = {
            "new": [server.add_issue(issue["title"], body=issue["body"]) for issue in test],
            "pull": server.add_pull_request("Fix the crash on save"),
            "labelled": server.add_issue("Crash when saving", labels=("bug",), body="it crashes"),
        }
        yield server, numbers


def project(promoted, tmp_path, server, **changes):
    settings = {
        "import.github.api_url": server.url,
        "import.github.repo": server.repo,
        "import.github.backoff_seconds": 0.01,
    }
    settings |= {"label.target_precision": 0.5, "label.default_label": "needs-triage", **changes}
    return copy_project(promoted, tmp_path / "project", **settings)


def label(folder, *args, token=TOKEN):
    return package(PACKAGE, "label", *args, cwd=folder, env={"GITHUB_TOKEN": token})


def span(numbers) -> str:
    return f"{min(numbers['new'])}-{numbers['labelled']}"


@pytest.mark.slow
def test_a_dry_run_plans_and_writes_nothing_then_apply_writes_the_plan(promoted, tmp_path, github):
    server, numbers = github
    folder = project(promoted, tmp_path, server)
    result = label(folder, "--issues", span(numbers), "--plan", "plan.json")
    assert result.returncode == 0, result.stderr
    assert server.writes == [] and "dry run: nothing was written to GitHub" in result.stdout
    plan = {d["number"]: d for d in files.read_json(folder / "plan.json")["issues"]}
    assert plan[numbers["pull"]]["skipped"] == "a pull request"
    assert plan[numbers["labelled"]]["skipped"] == "already labelled bug"
    assert f"#{numbers['pull']}: skipped (a pull request)" in result.stdout
    thresholds = files.read_json(folder / "deploy/active/thresholds.json")["labels"]
    names = {info["name"]: info for info in thresholds.values()}
    for number in numbers["new"]:
        decision = plan[number]
        assert decision["skipped"] is None and decision["labels"], "every issue gets a label or the default"
        for name in decision["labels"]:
            if name != "needs-triage":
                assert decision["scores"][name] >= names[name]["by_precision"]["0.50"] == decision["cleared"][name]
    assert any(name != "needs-triage" for d in plan.values() for name in d["labels"]), "no label cleared at all"

    result = label(folder, "--issues", span(numbers), "--apply")
    assert result.returncode == 0, result.stderr
    expected = [
        ("POST", f"/repos/{server.repo}/issues/{n}/labels", {"labels": plan[n]["labels"]}) for n in numbers["new"]
    ]
    assert server.writes == expected  # exactly the plan
    for number in numbers["new"]:
        events = server.issues[number]["events"]
        assert [e["actor"] for e in events] == ["github-actions"] * len(plan[number]["labels"])

    again = label(folder, "--issues", span(numbers), "--apply")
    assert again.returncode == 0 and server.writes == expected  # a re-run changes nothing
    assert "already done by model" in again.stdout
    for output in (result.stdout + result.stderr, again.stdout + again.stderr, (folder / "plan.json").read_text()):
        assert TOKEN not in output
    assert TOKEN not in (folder / ".cache/label/state.json").read_text()


@pytest.mark.slow
def test_a_sweep_labels_what_changed_since_the_last_one(promoted, tmp_path, github):
    server, numbers = github
    folder = project(promoted, tmp_path, server, **{"label.first_sweep_days": 100000})
    result = label(folder, "--sweep")
    assert result.returncode == 0, result.stderr
    labelled = {int(path.split("/")[-2]) for _, path, _ in server.writes}
    assert set(numbers["new"]) <= labelled and numbers["pull"] not in labelled
    assert numbers["labelled"] not in labelled
    state = files.read_json(folder / ".cache/label/state.json")
    assert state["last_sweep"] and set(state["acted"]) >= {str(n) for n in numbers["new"]}

    writes = len(server.writes)
    fresh = server.add_issue("It crashes when I open a large file", body="stack trace attached")
    result = label(folder, "--sweep", "--dry-run", "--plan", "plan.json")
    assert result.returncode == 0 and len(server.writes) == writes
    plan = {d["number"]: d for d in files.read_json(folder / "plan.json")["issues"]}
    assert plan[fresh]["skipped"] is None and plan[fresh]["labels"]
    assert all(plan[n]["skipped"].startswith("already done by model") for n in plan if n in numbers["new"])


@pytest.mark.slow
def test_comment_mode_keeps_one_comment_per_issue(promoted, tmp_path, github):
    server, numbers = github
    folder = project(promoted, tmp_path, server, **{"label.mode": "comment"})
    first = numbers["new"][0]
    assert label(folder, "--issues", str(first), "--apply").returncode == 0
    (comment,) = server.comments[first]
    assert "Suggested labels" in comment["body"] and server.issues[first]["labels"] == []  # suggested, not applied
    server.comments[first][0]["body"] = comment["body"].replace("Suggested", "Old suggested")  # an older run's text
    (folder / ".cache/label/state.json").unlink()  # as after a new model version
    assert label(folder, "--issues", str(first), "--apply").returncode == 0
    assert len(server.comments[first]) == 1 and server.comments[first][0]["body"] == comment["body"]
    assert [method for method, _, _ in server.writes] == ["POST", "PATCH"]


@pytest.mark.slow
def test_errors_and_faults(promoted, tmp_path, github):
    server, numbers = github
    folder = project(promoted, tmp_path, server)
    server.read_only_tokens.add(TOKEN)
    result = label(folder, "--issues", str(numbers["new"][0]), "--apply")
    assert result.returncode == 2 and server.writes == []
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: no permission to write: GitHub answered 403") and "`issues: write`" in line
    assert "Traceback" not in result.stderr and TOKEN not in result.stdout + result.stderr

    server.read_only_tokens.clear()
    server.inject("bad_gateway", "secondary_429", "primary_403", after=2)  # the first write (after two reads)
    result = label(folder, "--issues", f"{numbers['new'][0]}-{numbers['new'][1]}", "--apply")
    assert result.returncode == 0, result.stderr
    assert [path for _, path, _ in server.writes] == [
        f"/repos/{server.repo}/issues/{n}/labels" for n in numbers["new"][:2]
    ]
    assert "retry 1 of" in result.stderr and TOKEN not in result.stdout + result.stderr

    result = label(folder, "--issues", "5", token="")
    assert result.returncode == 2 and "error: `label` reads and writes GitHub issues, but GITHUB_TOKEN is not set" in (
        result.stderr
    )
    no_model = copy_project(folder, tmp_path / "bare")
    shutil.rmtree(no_model / "deploy")
    result = label(no_model, "--issues", "5")
    assert result.returncode == 2 and "deploy/active: no promoted model" in result.stderr


@pytest.mark.slow
def test_monitor_measures_the_applied_labels_from_the_label_timeline(promoted, tmp_path, github):
    server, numbers = github
    folder = project(promoted, tmp_path, server, **{"label.monitor.days": 100000})  # the fake's clock is in 2023
    assert label(folder, "--issues", span(numbers), "--apply").returncode == 0
    names = [info["name"] for info in files.read_json(folder / "deploy/active/thresholds.json")["labels"].values()]
    applied = {n: [name for name in server.issues[n]["labels"] if name in names] for n in numbers["new"]}
    a, b = [n for n in numbers["new"] if applied[n]][:2]
    server.label(a, applied[a][0], "alice", remove=True)  # a person disagreed: removed
    other = next(name for name in names if name not in applied[b])
    server.label(b, applied[b][0], "bob", remove=True)  # ... and put another label instead: replaced
    server.label(b, other, "bob")

    result = package(PACKAGE, "monitor", cwd=folder, env={"GITHUB_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    report = files.read_json(folder / "reports/monitor/report.json")
    total = sum(len(labels) for labels in applied.values())
    overall = report["overall"]
    assert (overall["applied"], overall["kept"], overall["removed"], overall["replaced"]) == (total, total - 2, 1, 1)
    assert overall["missed"] == 2  # bug on the issue a person labelled, and bob's own label on b
    assert overall["precision"] == pytest.approx((total - 2) / total)
    assert "| label | applied | kept | removed |" in (folder / "reports/monitor/report.md").read_text()
    assert result.stdout.strip().endswith("report: reports/monitor/report.md") and TOKEN not in result.stdout
