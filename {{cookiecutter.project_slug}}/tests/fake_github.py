"""A fake GitHub API for the import tests, the label command's tests and the template's benchmark.

One synthetic repository served over real HTTP on 127.0.0.1 (a free port), as GitHub serves it:
issues ordered by update time with opaque cursors and `filterBy: {since}`, labels and label
timelines paged by 100, rate-limit headers on every answer and a points budget that runs out,
401 / 403 / 404 and NOT_FOUND answers, and faults injected on demand (FAULTS). It reads a
query's variables and which connection it asks for, not the GraphQL text itself.

It serves the REST endpoints the label command uses too, at / and at /api/v3 (Enterprise): get and
list issues (pull requests included, as GitHub does; GraphQL's `issues` has none), add labels, list,
create and update comments, paged with Link headers. REST requests share the fault counter and the
points budget; a fault that GitHub would answer before doing anything leaves a write unapplied,
while `reset`, `truncated` and `slow` lose or delay the answer of a write that was applied
(AFTER_WRITE). GraphQL-only faults are answered to REST as `bad_gateway` (REST_FAULTS).

Standard library only, and no package import: the benchmark loads it from the template as is.
"""

from __future__ import annotations

import base64
import bisect
import collections
import json
import math
import random
import socket
import struct
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

TOKEN = "ghp_FAKE0TOKEN0for0import0tests0only"  # distinctive, so tests can look for leaks
REPO = "octo-org/octo-repo"
FAULTS = (
    "primary_403",  # 403, no points left, reset soon
    "secondary_429",  # 429 with Retry-After
    "secondary_403",  # 403 with Retry-After
    "rate_limited",  # 200 with a GraphQL RATE_LIMITED error
    "bad_gateway",  # 502
    "reset",  # the connection reset, no answer
    "truncated",  # half the announced body, then the connection closed
    "slow",  # an answer later than the client's timeout
    "malformed_json",  # 200 with a body that is not JSON
    "missing_fields",  # 200 with an issue that lacks updatedAt
    "graphql_error",  # 200 with data null and an error (GitHub's query timeout)
)
REST_FAULTS = dict.fromkeys(("rate_limited", "missing_fields", "graphql_error"), "bad_gateway")  # GraphQL-only ones
AFTER_WRITE = ("reset", "truncated", "slow")  # the write applied, then its answer lost or late: a late 200 is true
READ_ONLY = "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue"
LABELS = ("bug", "enhancement", "question", "documentation", "area/editor", "good first issue", "🐛 crash")
PEOPLE = ("alice", "bob", "chen", "dana", "eve")
BOTS = ("triage-bot[bot]", "github-actions")
START = datetime(2023, 1, 1, tzinfo=UTC).timestamp()


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(kind: str, label: str | None, actor: str | None, when: str) -> dict:
    return {"type": kind, "label": label, "actor": actor, "createdAt": when}


def _data(**fields) -> dict:
    """A GraphQL answer: data.repository.<fields>, or data.repository null."""
    return dict(data=dict(repository=fields or None))


def synthetic_issues(count: int, seed: int = 0, big_body: int = 3_000_000) -> list[dict]:
    """`count` issues, the same for the same arguments. Numbers have gaps (pull requests take
    numbers too); labels come from a replayed timeline of people and bots adding and removing
    them. The first few issues are the awkward ones: 150 label events, 120 labels, a body of
    `big_body` bytes, a lone surrogate in the body (invalid UTF-8 on the wire), a deleted
    author and actor, an event of a deleted label."""
    rng = random.Random(seed)
    issues, number = [], 0
    for index in range(count):
        number += rng.choice((1, 1, 1, 2, 3))
        created = START + index * 3000 + rng.randrange(3000)
        when, labels, events = created, [], []
        for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
            when += rng.randrange(60, 5 * 86400)
            label = rng.choice(LABELS)
            actor = rng.choice(PEOPLE + BOTS)
            if label in labels:
                labels.remove(label)
                events.append(_event("UnlabeledEvent", label, actor, iso(when)))
            else:
                labels.append(label)
                events.append(_event("LabeledEvent", label, actor, iso(when)))
        updated = when + rng.randrange(0, 10 * 86400)
        closed = rng.random() < 0.5
        issues.append(
            {
                "number": number,
                "title": rng.choice(("Crash on save", "Add dark mode", "How to debug?", "Docs typo")) + f" #{number}",
                "body": " ".join(rng.choice(("lorem", "ipsum", "`code`", "émoji 🎉", "\n")) for _ in range(30)),
                "state": "CLOSED" if closed else "OPEN",
                "createdAt": iso(created),
                "updatedAt": iso(updated),
                "closedAt": iso(updated) if closed else None,
                "author": rng.choice(PEOPLE),
                "assignees": rng.sample(PEOPLE, rng.choice((0, 0, 1, 2))),
                "labels": labels,
                "events": events,
            }
        )
    special = issues[:6]
    if len(special) == 6:
        long, many, big, broken, ghost, deleted = special
        at = datetime.fromisoformat(long["createdAt"]).timestamp()
        long["events"] = [
            _event(("LabeledEvent", "UnlabeledEvent")[i % 2], "bug", "alice", iso(at + i)) for i in range(150)
        ]
        long["labels"], long["updatedAt"] = [], iso(at + 200)
        many["labels"] = [f"topic/{i:03d}" for i in range(120)]
        big["body"] = "x" * big_body
        broken["body"] = "half an emoji: \ud83d, then more text"
        ghost["author"] = None
        ghost["events"] = [_event("LabeledEvent", "question", None, ghost["createdAt"])]
        ghost["labels"] = ["question"]
        deleted["events"] = deleted["events"] + [_event("LabeledEvent", None, "bob", deleted["createdAt"])]
    return issues


def _cursor(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def _uncursor(cursor: str):
    return json.loads(base64.b64decode(cursor))


def _actor(login: str | None) -> dict | None:
    return None if login is None else {"login": login}


def _connection(items: list, after: str | None, first: int = 100) -> dict:
    start = _uncursor(after) if after else 0
    chunk = items[start : start + first]
    info = {"hasNextPage": start + first < len(items), "endCursor": _cursor(start + len(chunk)) if chunk else None}
    return {"totalCount": len(items), "pageInfo": info, "nodes": chunk}


def _invalid(why: str) -> tuple[int, dict, dict]:
    return 422, {"message": f"Invalid request.\n\n{why}", "documentation_url": "https://docs.github.com/rest"}, {}


def _text(data) -> bool:
    """Whether a REST body has a non-empty "body"."""
    return isinstance(data, dict) and isinstance(data.get("body"), str) and bool(data["body"])


def _event_node(event: dict) -> dict:
    label = None if event["label"] is None else {"name": event["label"]}
    return {
        "__typename": event["type"],
        "createdAt": event["createdAt"],
        "actor": _actor(event["actor"]),
        "label": label,
    }


class FakeGitHub:
    """The fake API; `with FakeGitHub(issues) as github:` serves at `github.url`."""

    def __init__(
        self,
        issues: list[dict],
        *,
        token: str = TOKEN,
        repo: str = REPO,
        rate_limit: int = 5000,
        reset_seconds: float = 0.3,
        retry_after: str = "0.2",
        slow_seconds: float = 0.6,
        delay: float = 0.0,
    ):
        self.issues = {issue["number"]: issue for issue in issues}
        self.token, self.repo = token, repo
        self.forbidden_tokens: set[str] = set()  # valid tokens without access to the repository
        self.logins: dict[str, str] = {token: "github-actions"}  # the valid tokens, and whose they are
        self.read_only_tokens: set[str] = set()  # valid tokens that may read but not write (REST)
        self.rate_limit, self.reset_seconds = rate_limit, reset_seconds
        self.retry_after, self.slow_seconds, self.delay = retry_after, slow_seconds, delay
        self.remaining, self.window_end = rate_limit, 0.0
        self.planned: dict[int, str] = {}  # request number -> its fault (see inject)
        self.fault_every, self.fault_kinds = 0, FAULTS  # and a fault every N requests, kinds in turn
        self.requests = 0
        self.refused = 0  # queries refused for lack of points
        self.faults_served: collections.Counter[str] = collections.Counter()
        self.variables: list[dict] = []  # of every query answered, for assertions
        self.writes: list[tuple[str, str, dict]] = []  # (method, path, body) of every REST write applied
        self.comments: dict[int, list[dict]] = {}  # issue number -> its comments, as REST answers them
        self.lock = threading.Lock()
        self._order: list[tuple[str, int]] | None = None
        self._server: ThreadingHTTPServer | None = None

    # --- serving ----------------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        self._server.handle_error = lambda request, address: None  # clients that left, on purpose
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def inject(self, *kinds: str, after: int = 0) -> None:
        """Answer the requests that follow the next `after` ones with these faults, in order."""
        unknown = set(kinds) - set(FAULTS)
        assert not unknown, f"unknown faults {unknown}; expected some of {FAULTS}"
        with self.lock:
            for offset, kind in enumerate(kinds):
                self.planned[self.requests + after + 1 + offset] = kind

    def next_fault(self) -> str | None:
        with self.lock:
            self.requests += 1
            kind = self.planned.pop(self.requests, None)
            if kind is None and self.fault_every and self.requests % self.fault_every == 0:
                kind = self.fault_kinds[(self.requests // self.fault_every - 1) % len(self.fault_kinds)]
            if kind:
                self.faults_served[kind] += 1
            return kind

    def spend(self, resource: str = "graphql") -> dict:
        """Charge a request one point; the rate-limit headers after it (remaining 0: refused)."""
        with self.lock:
            now = time.time()
            if now >= self.window_end:
                self.remaining, self.window_end = self.rate_limit, now + self.reset_seconds
            refused = self.remaining == 0
            self.refused += refused
            self.remaining = max(self.remaining - 1, 0)
            headers = self.limit_headers(0 if refused else self.remaining, resource=resource)
            headers["refused"] = refused
            return headers

    def limit_headers(self, remaining: int, reset: float | None = None, resource: str = "graphql") -> dict:
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(self.rate_limit - remaining),
            "x-ratelimit-reset": f"{reset or self.window_end:.3f}",  # GitHub sends whole seconds
            "x-ratelimit-resource": resource,
        }

    # --- the repository ---------------------------------------------------------------------

    def answer(self, query: str, variables: dict) -> dict:
        with self.lock:
            self.variables.append(variables)
            if f"{variables.get('owner')}/{variables.get('name')}" != self.repo:
                return _data() | {
                    "errors": [
                        {
                            "type": "NOT_FOUND",
                            "path": ["repository"],
                            "message": f"Could not resolve to a Repository with the name '{variables.get('owner')}/"
                            f"{variables.get('name')}'.",
                        }
                    ],
                }
            if "number" in variables:
                return self._more(query, variables)
            return _data(issues=self._issues(variables))

    def _sorted(self) -> list[tuple[str, int]]:
        if self._order is None:
            self._order = sorted(
                (issue["updatedAt"], number)
                for number, issue in self.issues.items()
                if not issue.get("pull_request")  # GraphQL's `issues` holds no pull requests
            )
        return self._order

    def _issues(self, variables: dict) -> dict:
        order, first = self._sorted(), variables["first"]
        assert 1 <= first <= 100, first
        since = variables.get("since")
        low = bisect.bisect_left(order, (since, -1)) if since else 0
        start = low
        if variables.get("after"):
            start = max(low, bisect.bisect_right(order, tuple(_uncursor(variables["after"]))))
        chosen = order[start : start + first]
        return {
            "totalCount": len(order) - low,
            "pageInfo": {
                "hasNextPage": start + first < len(order),
                "endCursor": _cursor(chosen[-1]) if chosen else None,
            },
            "nodes": [self._node(self.issues[number]) for _, number in chosen],
        }

    def _node(self, issue: dict) -> dict:
        return {
            "number": issue["number"],
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "createdAt": issue["createdAt"],
            "updatedAt": issue["updatedAt"],
            "closedAt": issue["closedAt"],
            "author": _actor(issue["author"]),
            "assignees": {"nodes": [_actor(login) for login in issue["assignees"][:10]]},
            "labels": _connection([{"name": name} for name in issue["labels"]], None),
            "timelineItems": _connection([_event_node(event) for event in issue["events"]], None),
        }

    def _more(self, query: str, variables: dict) -> dict:
        issue = self.issues.get(variables["number"])
        if issue is None or issue.get("pull_request"):
            error = {"type": "NOT_FOUND", "path": ["repository", "issue"], "message": "no such issue"}
            return _data(issue=None) | {"errors": [error]}
        if "timelineItems(" in query:
            items, connection = [_event_node(event) for event in issue["events"]], "timelineItems"
        else:
            items, connection = [{"name": name} for name in issue["labels"]], "labels"
        return _data(issue={connection: _connection(items, variables["after"])})

    # --- REST -------------------------------------------------------------------------------

    def rest(self, method: str, target: str, body: bytes, login: str | None) -> tuple[int, object, dict]:
        """Answer a REST request: (status, payload, headers). `target` is the path and query as sent."""
        sent, _, query = target.partition("?")
        path = sent.removeprefix("/api/v3")
        parts = path.strip("/").split("/")
        not_found = 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}
        if len(parts) < 4 or parts[0] != "repos" or parts[3] != "issues":
            return not_found
        if f"{parts[1]}/{parts[2]}".lower() != self.repo.lower():  # GitHub's names are not case sensitive
            return not_found
        handler = {
            ("GET",): self._list_issues,
            ("GET", "N"): self._get_issue,
            ("POST", "N", "labels"): self._add_labels,
            ("GET", "N", "comments"): self._list_comments,
            ("POST", "N", "comments"): self._create_comment,
            ("PATCH", "comments", "N"): self._update_comment,
        }.get((method, *("N" if part.isdigit() else part for part in parts[4:])))
        if handler is None:
            return not_found
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None  # a write's handler answers it 422
        number = next((int(part) for part in parts[4:] if part.isdigit()), 0)
        with self.lock:
            answer = handler(number, dict(parse_qsl(query)), data, login, self.url + sent)
            if answer[0] == 404:
                return not_found
            if method != "GET" and answer[0] < 300:
                self.writes.append((method, path, data))
            return answer

    def _html(self, issue: dict) -> str:
        return f"https://github.com/{self.repo}/{'pull' if issue.get('pull_request') else 'issues'}/{issue['number']}"

    def _rest_issue(self, issue: dict) -> dict:
        number, pull = issue["number"], issue.get("pull_request")
        answer = {
            "number": number,
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"].lower(),
            "labels": [{"name": name} for name in issue["labels"]],
            "assignees": [{"login": login} for login in issue["assignees"]],
            "comments": len(self.comments.get(number, ())),
            "created_at": issue["createdAt"],
            "updated_at": issue["updatedAt"],
            "closed_at": issue["closedAt"],
            "user": {"login": issue["author"] or "ghost"},  # REST shows a deleted account as ghost
            "html_url": self._html(issue),
        }
        if pull:  # how REST tells a pull request from an issue
            answer["pull_request"] = {"url": f"https://api.github.com/repos/{self.repo}/pulls/{number}"}
        return answer

    @staticmethod
    def _page(items: list, query: dict, url: str) -> tuple[list, dict]:
        """One page of `items` as GitHub pages REST lists: per_page (30, at most 100), page and a Link header."""
        try:
            per_page, page = max(min(int(query.get("per_page", 30)), 100), 1), max(int(query.get("page", 1)), 1)
        except ValueError:
            per_page, page = 30, 1  # GitHub ignores a bad one
        last = max(math.ceil(len(items) / per_page), 1)
        links = {"prev": page - 1, "first": 1} if page > 1 else {}
        links |= {"next": page + 1, "last": last} if page < last else {}
        link = ", ".join(f'<{url}?{urlencode(query | dict(page=to))}>; rel="{rel}"' for rel, to in links.items())
        return items[(page - 1) * per_page : page * per_page], {"Link": link} if link else {}

    def _get_issue(self, number: int, query: dict, data, login, url: str) -> tuple[int, object, dict]:
        issue = self.issues.get(number)
        return (200, self._rest_issue(issue), {}) if issue else (404, None, {})

    def _list_issues(self, number: int, query: dict, data, login, url: str) -> tuple[int, object, dict]:
        state, sort = query.get("state", "open"), query.get("sort", "created")
        if state not in ("open", "closed", "all") or sort not in ("created", "updated"):
            return _invalid("state is open, closed or all; sort is created or updated.")
        if query.get("direction", "desc") not in ("asc", "desc"):
            return _invalid("direction is asc or desc.")
        since = ""
        if "since" in query:
            try:
                when = datetime.fromisoformat(query["since"])
            except ValueError:
                return _invalid("since is an ISO 8601 time.")
            # updatedAt has whole seconds: at or after `since` is at or after its next whole second
            since = iso(math.ceil((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()))
        key = "createdAt" if sort == "created" else "updatedAt"
        chosen = sorted(
            (
                issue
                for issue in self.issues.values()
                if state in ("all", issue["state"].lower()) and issue["updatedAt"] >= since
            ),
            key=lambda issue: (issue[key], issue["number"]),
            reverse=query.get("direction", "desc") == "desc",
        )
        page, headers = self._page(chosen, query, url)
        return 200, [self._rest_issue(issue) for issue in page], headers

    def _add_labels(self, number: int, query: dict, data, login: str, url: str) -> tuple[int, object, dict]:
        issue = self.issues.get(number)
        if issue is None:
            return 404, None, {}
        labels = data.get("labels") if isinstance(data, dict) else data  # GitHub takes a bare list too
        if not isinstance(labels, list) or not all(isinstance(label, str) and label for label in labels):
            return _invalid('"labels" is a list of label names.')
        added = [label for label in dict.fromkeys(labels) if label not in issue["labels"]]
        if added:  # re-adding a label changes nothing, as on GitHub
            now = self._touch(issue)
            issue["labels"] = issue["labels"] + added
            issue["events"] = issue["events"] + [_event("LabeledEvent", label, login, now) for label in added]
        return 200, [{"name": name} for name in issue["labels"]], {}

    def _list_comments(self, number: int, query: dict, data, login, url: str) -> tuple[int, object, dict]:
        if number not in self.issues:
            return 404, None, {}
        page, headers = self._page(self.comments.get(number, []), query, url)
        return 200, [dict(comment) for comment in page], headers  # copies: sent after the lock is released

    def _create_comment(self, number: int, query: dict, data, login: str, url: str) -> tuple[int, object, dict]:
        if number not in self.issues:
            return 404, None, {}
        if not _text(data):
            return _invalid('"body" wasn\'t supplied.')
        return 201, dict(self._comment(number, data["body"], login)), {}

    def _update_comment(self, number: int, query: dict, data, login, url: str) -> tuple[int, object, dict]:
        found = next(((key, c) for key, thread in self.comments.items() for c in thread if c["id"] == number), None)
        if found is None:
            return 404, None, {}
        if not _text(data):
            return _invalid('"body" wasn\'t supplied.')
        issue, comment = found
        comment.update(body=data["body"], updated_at=self._touch(self.issues[issue]))
        return 200, dict(comment), {}

    # --- changes between imports ------------------------------------------------------------

    def _now(self) -> str:
        """A later update time than any so far, one second on."""
        latest = max(issue["updatedAt"] for issue in self.issues.values())
        return iso(datetime.fromisoformat(latest).timestamp() + 1)

    def _touch(self, issue: dict) -> str:
        """Mark `issue` updated now (the lock held); now."""
        issue["updatedAt"], self._order = self._now(), None
        return issue["updatedAt"]

    def _comment(self, number: int, body: str, author: str) -> dict:
        ids = [comment["id"] for thread in self.comments.values() for comment in thread]
        key, now = max(ids, default=1000) + 1, self._touch(self.issues[number])  # past any id a test put there
        comment = {
            "id": key,
            "body": body,
            "user": {"login": author},
            "created_at": now,
            "updated_at": now,
            "html_url": f"{self._html(self.issues[number])}#issuecomment-{key}",
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def edit(self, number: int, **fields) -> None:
        with self.lock:
            self.issues[number].update(fields, updatedAt=self._now())
            self._order = None

    def close(self, number: int) -> None:
        with self.lock:
            now = self._now()
            self.issues[number].update(state="CLOSED", closedAt=now, updatedAt=now)
            self._order = None

    def label(self, number: int, label: str, actor: str, remove: bool = False) -> None:
        with self.lock:
            issue, now = self.issues[number], self._now()
            issue["events"].append(_event("UnlabeledEvent" if remove else "LabeledEvent", label, actor, now))
            issue["labels"] = [name for name in issue["labels"] if name != label] + ([] if remove else [label])
            issue["updatedAt"] = now
            self._order = None

    def comment(self, number: int, body: str, author: str = "alice") -> dict:
        """Comment on an issue, as someone did on GitHub; the comment as REST answers it."""
        with self.lock:
            return dict(self._comment(number, body, author))

    def add_issue(
        self,
        title: str,
        labels: tuple[str, ...] = (),
        body: str = "",
        author: str | None = "alice",
        *,
        pull_request: bool = False,
    ) -> int:
        with self.lock:
            number, now = max(self.issues) + 1, self._now()
            events = [_event("LabeledEvent", label, author, now) for label in labels]
            self.issues[number] = {
                "number": number,
                "title": title,
                "body": body,
                "state": "OPEN",
                "createdAt": now,
                "updatedAt": now,
                "closedAt": None,
                "author": author,
                "assignees": [],
                "labels": list(labels),
                "events": events,
                "pull_request": pull_request,
            }
            self._order = None
            return number

    def add_pull_request(self, title: str) -> int:
        """A pull request: a number of the issues' own, in REST's issue lists but not in GraphQL's `issues`."""
        return self.add_issue(title, pull_request=True)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeGitHub/1.0"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.serve()

    do_POST = do_PATCH = do_DELETE = do_GET

    def serve(self) -> None:
        """Every request: counted, authenticated, charged, then answered by GraphQL or REST, or a fault."""
        fake: FakeGitHub = self.server.fake
        request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = fake.next_fault()  # every request counts, refused ones too
        if fake.delay:  # after counting it: a client killed at a count dies during the page
            time.sleep(fake.delay)
        graphql = self.command == "POST" and self.path in ("/graphql", "/api/graphql")
        docs = "https://docs.github.com/graphql" if graphql else "https://docs.github.com/rest"
        if not graphql and not self.path.removeprefix("/api/v3").startswith("/repos/"):
            return self.send(404, {"message": "Not Found", "documentation_url": docs})
        token = self.headers.get("Authorization", "").partition(" ")[2]  # token X, bearer X, Bearer X
        if token in fake.forbidden_tokens:
            message = "Resource not accessible by personal access token"
            return self.send(403, {"message": message}, fake.limit_headers(fake.rate_limit - 1))
        if token not in fake.logins and token not in fake.read_only_tokens:
            return self.send(401, {"message": "Bad credentials", "documentation_url": docs})
        limits = fake.spend("graphql" if graphql else "core")
        if limits.pop("refused"):
            return self.send(403, {"message": "API rate limit exceeded for user ID 1."}, limits)
        if graphql:
            body = json.loads(request)
            answer = fake.answer(body["query"], body["variables"])
            return self.fault(fault, answer, limits) if fault else self.send(200, answer, limits)
        if fault and fault not in AFTER_WRITE:  # decided before a write: GitHub refused it, nothing changed
            return self.fault(REST_FAULTS.get(fault, fault), None, limits)
        if self.command != "GET" and token in fake.read_only_tokens:
            forbidden = {"message": "Resource not accessible by integration", "documentation_url": READ_ONLY}
            return self.send(403, forbidden, limits | {"x-accepted-github-permissions": "issues=write"})
        status, answer, headers = fake.rest(self.command, self.path, request, fake.logins.get(token))
        if fault:  # reset, truncated or slow: after the write, as when the answer is what got lost
            return self.fault(fault, answer, limits | headers, status)
        self.send(status, answer, limits | headers)

    def send(self, status: int, payload, headers: dict | None = None, cut: bool = False) -> None:
        # surrogatepass: a lone surrogate in the data goes out as invalid UTF-8, as from a broken proxy
        data = (
            payload
            if isinstance(payload, bytes)
            else json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if cut else data)
        if cut:
            self.close_connection = True

    def fault(self, kind: str, answer, limits: dict, status: int = 200) -> None:
        fake: FakeGitHub = self.server.fake
        secondary = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        }
        if kind == "primary_403":
            reset = time.time() + fake.reset_seconds
            headers = fake.limit_headers(0, reset, limits["x-ratelimit-resource"])
            self.send(403, {"message": "API rate limit exceeded for user ID 1."}, headers)
        elif kind in ("secondary_429", "secondary_403"):
            self.send(int(kind[-3:]), secondary, limits | {"Retry-After": fake.retry_after})
        elif kind == "rate_limited":
            error = {"type": "RATE_LIMITED", "message": "API rate limit already exceeded for user ID 1."}
            self.send(200, {"errors": [error]}, fake.limit_headers(0, time.time() + fake.reset_seconds))
        elif kind == "bad_gateway":
            self.send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", limits)
        elif kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif kind == "truncated":
            self.send(status, answer, limits, cut=True)
        elif kind == "slow":
            time.sleep(fake.slow_seconds)
            self.send(status, answer, limits)
        elif kind == "malformed_json":
            self.send(200, b'{"data": {"repository": {"issues": {"nodes": [<html>', limits)
        elif kind == "missing_fields":
            issues = (answer.get("data") or {}).get("repository", {}).get("issues")
            if issues and issues["nodes"]:
                issues["nodes"][0].pop("updatedAt")
            elif issues:
                issues.pop("pageInfo")
            else:  # the rest of an issue's labels or events
                answer = _data(issue=dict())
            self.send(200, answer, limits)
        elif kind == "graphql_error":
            error = {"message": "Something went wrong while executing your query. This may be the result of a timeout."}
            self.send(200, {"data": None, "errors": [error]}, limits)
