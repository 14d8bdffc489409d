"""Import every issue of a GitHub repository (`import.source: github`): complete, incremental,
resumable, polite.

Why GraphQL rather than REST, counted for 100,000 issues:

- GraphQL: one query returns 100 issues with all we keep (text, dates, state, author, assignees,
  labels) and each issue's label timeline (LabeledEvent / UnlabeledEvent: label, actor, time).
  That is 1,000 requests. A query costs the requests its connections could need, divided by 100:
  1 (the issues) + 100 x 3 (each issue's labels, assignees, timeline) = 301, so 3 points, about
  3,000 points in all (plus 1 per extra page for the rare issue with over 100 label events):
  within one hour of a token's 5,000 points an hour, about 3 hours at GitHub Actions'
  GITHUB_TOKEN's 1,000 (the waits are announced). `issues` holds no pull requests, and
  `filterBy: {since}` with `orderBy: UPDATED_AT` lets a re-run fetch only what changed.
- REST: `GET /repos/OWNER/REPO/issues?state=all&per_page=100` lists pull requests too (often
  more pages of them than of issues) and has no label timeline: one more request per issue
  (`/issues/N/timeline`), about 101,000 requests of 1 point each, some 20 hours of a 5,000-an-hour
  budget.

Neither API keeps an issue's title and body as they were when a label was added (vscode's dumps
have them because its scraper ran at the time); records hold the current text.

How a run goes: the issues of the last run and the resume checkpoint are in the store
(store.py). A pass asks for the issues updated since the newest `updated_at` stored (less
OVERLAP), oldest update first, page after page to the end, each page stored before the next is
asked for; an issue edited during the pass moves to the end of the order and is read again,
never skipped. A killed run resumes at the stored cursor. The records written are then the
store's issues as of `import.github.until` (see `as_of`), ordered by number.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ..core.config import GithubImport, parse_time
from .api import GitHubAPI, NotFound, RetryableError, duration, say_on_stderr
from .records import GHOST, SourceError
from .store import FORMAT, IssueStore, merge

OVERLAP = timedelta(minutes=10)  # re-read the last minutes of updates: GitHub's issue index may lag
LABEL_PAGE = """
fragment labelPage on LabelConnection {
  pageInfo { hasNextPage endCursor }
  nodes { name }
}
"""
EVENT_PAGE = """
fragment eventPage on IssueTimelineItemsConnection {
  pageInfo { hasNextPage endCursor }
  nodes {
    __typename
    ... on LabeledEvent { createdAt actor { login } label { name } }
    ... on UnlabeledEvent { createdAt actor { login } label { name } }
  }
}
"""
EVENT_TYPES = "itemTypes: [LABELED_EVENT, UNLABELED_EVENT]"
ISSUES_QUERY = (
    """
query($owner: String!, $name: String!, $first: Int!, $after: String, $since: DateTime) {
  repository(owner: $owner, name: $name) {
    issues(first: $first, after: $after, filterBy: {since: $since}, orderBy: {field: UPDATED_AT, direction: ASC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        number title body state createdAt updatedAt closedAt
        author { login }
        assignees(first: 10) { nodes { login } }
        labels(first: 100) { ...labelPage }
        timelineItems(first: 100, """
    + EVENT_TYPES
    + """) { ...eventPage }
      }
    }
  }
}
"""
    + LABEL_PAGE
    + EVENT_PAGE
)


def _more_query(selection: str, fragment: str) -> str:
    """The query for the rest of one issue's labels or label events, past the first page."""
    return (
        """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      SELECTION
    }
  }
}
""".replace("SELECTION", selection)
        + fragment
    )


MORE_QUERIES = {
    "labels": _more_query("labels(first: 100, after: $after) { ...labelPage }", LABEL_PAGE),
    "timelineItems": _more_query(
        f"timelineItems(first: 100, after: $after, {EVENT_TYPES}) " + "{ ...eventPage }", EVENT_PAGE
    ),
}
REQUIRED = ("number", "title", "state", "createdAt", "updatedAt", "labels", "timelineItems")


def import_issues(options: GithubImport, say: Callable[[str], None] = say_on_stderr) -> list[dict]:
    """The repository's issues as of `options.until`, after bringing the store up to date."""
    api = connect(options, "import.source is 'github'", say)
    issues = fetch(api, IssueStore(store_folder(options)), options.page_size, say)
    until = None if options.until is None else parse_time(options.until)
    return [as_of(issues[number], until) for number in sorted(issues) if _created_by(issues[number], until)]


def connect(options: GithubImport, why: str, say: Callable[[str], None] = say_on_stderr, **kwargs) -> GitHubAPI:
    """A client of options.repo, with the token from GITHUB_TOKEN (never from config.yaml)."""
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise SourceError(
            f"{why}, but GITHUB_TOKEN is not set; expected a GitHub token in the environment "
            "(never in config.yaml), e.g. `export GITHUB_TOKEN=$(gh auth token)`"
        )
    return GitHubAPI(
        options.api_url,
        token,
        options.repo,
        timeout=options.timeout_seconds,
        max_retries=options.max_retries,
        backoff=options.backoff_seconds,
        say=say,
        **kwargs,
    )


def store_folder(options: GithubImport) -> Path:
    """One store per API host and repository: <cache_dir>/<host>/<owner>/<name>."""
    host = urllib.parse.urlsplit(options.api_url).netloc.replace(":", "_")
    owner, name = options.repo.split("/", 1)
    return Path(options.cache_dir) / host / owner / name


def fetch(api: GitHubAPI, store: IssueStore, page_size: int, say: Callable[[str], None]) -> dict[int, dict]:
    """Bring the store up to date (resuming an interrupted pass) and return all its issues."""
    owner, name = api.repo.split("/", 1)
    issues, state = store.load()
    run = state.get("pass")
    if run:
        say(f"{api.repo}: resuming the interrupted import ({len(issues):,} issues stored)")
    else:
        since = _since(state.get("high_water"))
        run = {"since": since, "cursor": None, "fetched": 0}
        say(f"{api.repo}: fetching " + (f"the issues updated since {since}" if since else "every issue"))
    progress = Progress(api, say, run["fetched"])
    while True:
        variables = {"owner": owner, "name": name, "first": page_size, "after": run["cursor"], "since": run["since"]}
        page = api.query(ISSUES_QUERY, variables, parse=_parse_page)
        for record, connection, cursor in page.incomplete:
            _complete(api, record, connection, cursor)
        for record in page.records:
            merge(issues, record)
        run = {**run, "cursor": page.cursor or run["cursor"], "fetched": run["fetched"] + len(page.records)}
        store.add_page(page.records, {**state, "pass": run})
        progress.show(run["fetched"], page.total, done=not page.has_next)
        if not page.has_next:
            break
    high_water = max((record["updated_at"] for record in issues.values()), default=None)
    store.finish(issues, {"format": FORMAT, "high_water": high_water, "pass": None})
    return issues


def _since(high_water: str | None) -> str | None:
    if high_water is None:
        return None
    return parse_time(datetime.fromisoformat(high_water) - OVERLAP)


def _created_by(record: dict, until: str | None) -> bool:
    return until is None or record["created_at"] <= until


def as_of(record: dict, until: str | None) -> dict:
    """The issue as it was at `until`, as far as GitHub's history tells: label changes after it are
    undone and their events dropped, an issue closed after it is open. Title, body and assignees are
    the latest (GitHub keeps no cheap history of them), and `updated_at` is left out: it moves with
    every later comment, and would change a snapshot that has not changed."""
    if until is None:
        return record
    labels = list(record["labels"])
    later = [event for event in record["label_events"] if event["created_at"] > until]
    for event in reversed(later):
        if event["type"] == "added" and event["label"] in labels:
            labels.remove(event["label"])
        elif event["type"] == "removed" and event["label"] is not None and event["label"] not in labels:
            labels.append(event["label"])
    out = {key: value for key, value in record.items() if key != "updated_at"}
    out["labels"] = labels
    out["label_events"] = [event for event in record["label_events"] if event["created_at"] <= until]
    if record["closed_at"] and record["closed_at"] > until:
        out.update(state="open", closed_at=None)
    return out


# --- reading GitHub's answers ------------------------------------------------------------------


@dataclass
class Page:
    records: list[dict]
    incomplete: list[tuple[dict, str, str]]  # (record, connection, cursor) with more to fetch
    total: int
    has_next: bool
    cursor: str | None


def _parse_page(data: dict) -> Page:
    issues = (data.get("repository") or {}).get("issues")
    if not isinstance(issues, dict) or not isinstance(issues.get("nodes"), list) or "pageInfo" not in issues:
        raise RetryableError("a page of issues came without its issues or pageInfo")
    records, incomplete = [], []
    for node in issues["nodes"]:
        record, more = _record(node)
        records.append(record)
        incomplete += [(record, connection, cursor) for connection, cursor in more]
    info = issues["pageInfo"] or {}
    total = issues.get("totalCount")
    return Page(
        records,
        incomplete,
        total=total if isinstance(total, int) else len(records),
        has_next=bool(info.get("hasNextPage")),
        cursor=info.get("endCursor"),
    )


def _record(node) -> tuple[dict, list[tuple[str, str]]]:
    """The record of one issue node, and the (connection, cursor) of its unfinished connections."""
    if not isinstance(node, dict):
        raise RetryableError(f"a page held an issue that is {node!r}")
    missing = [key for key in REQUIRED if node.get(key) is None]
    if missing:
        raise RetryableError(f"issue #{node.get('number', '?')} came without {', '.join(missing)}")
    try:
        record = {
            "number": int(node["number"]),
            "title": str(node["title"]),
            "body": str(node.get("body") or ""),
            "state": str(node["state"]).lower(),
            "created_at": str(node["createdAt"]),
            "updated_at": str(node["updatedAt"]),
            "closed_at": node.get("closedAt"),
            "author": _login(node.get("author")),
            "assignees": [_login(person) for person in (node.get("assignees") or {}).get("nodes") or []],
            "labels": _labels(node["labels"]),
            "label_events": _events(node["timelineItems"]),
        }
        more = [
            (connection, node[connection]["pageInfo"]["endCursor"])
            for connection in ("labels", "timelineItems")
            if node[connection]["pageInfo"]["hasNextPage"]
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RetryableError(f"issue #{node.get('number', '?')} is malformed ({error!r})") from None
    return record, more


def _login(actor) -> str:
    return (actor.get("login") or GHOST) if isinstance(actor, dict) else GHOST


def _labels(connection: dict) -> list[str]:
    return [str(label["name"]) for label in connection["nodes"]]


def _events(connection: dict) -> list[dict]:
    events = []
    for node in connection["nodes"]:
        kind = {"LabeledEvent": "added", "UnlabeledEvent": "removed"}.get(node["__typename"])
        if kind is None:
            continue  # GitHub only sends the two types asked for; anything else is not a label event
        label = node.get("label")
        events.append(
            {
                "type": kind,
                "label": label.get("name") if isinstance(label, dict) else None,  # None: a deleted label
                "actor": _login(node.get("actor")),
                "created_at": node["createdAt"],
            }
        )
    return events


def _complete(api: GitHubAPI, record: dict, connection: str, cursor: str) -> None:
    """Fetch the rest of an issue's labels or label events into its record."""
    owner, name = api.repo.split("/", 1)
    key, read = ("labels", _labels) if connection == "labels" else ("label_events", _events)

    def parse(data: dict):
        try:
            page = data["repository"]["issue"][connection]
            return read(page), page["pageInfo"]
        except (KeyError, TypeError) as error:
            raise RetryableError(
                f"issue #{record['number']}: a page of {connection} is malformed ({error!r})"
            ) from None

    while cursor:
        variables = {"owner": owner, "name": name, "number": record["number"], "after": cursor}
        try:
            items, info = api.query(MORE_QUERIES[connection], variables, parse=parse)
        except NotFound as gone:
            if gone.path[-1:] != ["issue"]:
                raise
            api.say(f"issue #{record['number']} was deleted or moved while being read; keeping what was read")
            return
        record[key] += items
        cursor = info.get("endCursor") if info.get("hasNextPage") else None


class Progress:
    """`fetched/total issues, time left` on the terminal: every few seconds and at the end."""

    def __init__(self, api: GitHubAPI, say: Callable[[str], None], fetched: int, every: float = 2.0):
        self.api, self.say, self.every = api, say, every
        self.start, self.fetched_at_start, self.last = time.monotonic(), fetched, float("-inf")

    def show(self, fetched: int, total: int, done: bool) -> None:
        now = time.monotonic()
        if not done and now - self.last < self.every:
            return
        self.last = now
        total = max(total, fetched) if done else max(total, 1)
        line = f"{self.api.repo}: {min(fetched, total):,}/{total:,} issues fetched"
        rate = (fetched - self.fetched_at_start) / max(now - self.start, 1e-9)  # waits included
        if not done and rate > 0:
            line += f", about {duration((total - fetched) / rate)} left"
        if self.api.waited:
            line += f" ({duration(self.api.waited)} spent waiting on rate limits and retries)"
        self.say(line)
