"""A fake GitHub GraphQL API for the import tests and the template's benchmark.

One synthetic repository served over real HTTP on 127.0.0.1 (a free port), as GitHub serves it:
issues ordered by update time with opaque cursors and `filterBy: {since}`, labels and label
timelines paged by 100, rate-limit headers on every answer and a points budget that runs out,
401 / 403 / 404 and NOT_FOUND answers, and faults injected on demand (FAULTS). It reads a
query's variables and which connection it asks for, not the GraphQL text itself.

Standard library only, and no package import: the benchmark loads it from the template as is.
"""

from __future__ import annotations

import base64
import bisect
import collections
import json
import random
import socket
import struct
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
        self.rate_limit, self.reset_seconds = rate_limit, reset_seconds
        self.retry_after, self.slow_seconds, self.delay = retry_after, slow_seconds, delay
        self.remaining, self.window_end = rate_limit, 0.0
        self.planned: dict[int, str] = {}  # request number -> its fault (see inject)
        self.fault_every, self.fault_kinds = 0, FAULTS  # and a fault every N requests, kinds in turn
        self.requests = 0
        self.refused = 0  # queries refused for lack of points
        self.faults_served: collections.Counter[str] = collections.Counter()
        self.variables: list[dict] = []  # of every query answered, for assertions
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

    def spend(self) -> dict:
        """Charge a query one point; the rate-limit headers after it (remaining 0: refused)."""
        with self.lock:
            now = time.time()
            if now >= self.window_end:
                self.remaining, self.window_end = self.rate_limit, now + self.reset_seconds
            refused = self.remaining == 0
            self.refused += refused
            self.remaining = max(self.remaining - 1, 0)
            headers = self.limit_headers(0 if refused else self.remaining)
            headers["refused"] = refused
            return headers

    def limit_headers(self, remaining: int, reset: float | None = None) -> dict:
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(self.rate_limit - remaining),
            "x-ratelimit-reset": f"{reset or self.window_end:.3f}",  # GitHub sends whole seconds
            "x-ratelimit-resource": "graphql",
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
            self._order = sorted((issue["updatedAt"], number) for number, issue in self.issues.items())
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
        if issue is None:
            error = {"type": "NOT_FOUND", "path": ["repository", "issue"], "message": "no such issue"}
            return _data(issue=None) | {"errors": [error]}
        if "timelineItems(" in query:
            items, connection = [_event_node(event) for event in issue["events"]], "timelineItems"
        else:
            items, connection = [{"name": name} for name in issue["labels"]], "labels"
        return _data(issue={connection: _connection(items, variables["after"])})

    # --- changes between imports ------------------------------------------------------------

    def _now(self) -> str:
        """A later update time than any so far, one second on."""
        latest = max(issue["updatedAt"] for issue in self.issues.values())
        return iso(datetime.fromisoformat(latest).timestamp() + 1)

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

    def add_issue(self, title: str, labels: tuple[str, ...] = ()) -> int:
        with self.lock:
            number, now = max(self.issues) + 1, self._now()
            events = [_event("LabeledEvent", label, "alice", now) for label in labels]
            self.issues[number] = {
                "number": number,
                "title": title,
                "body": "",
                "state": "OPEN",
                "createdAt": now,
                "updatedAt": now,
                "closedAt": None,
                "author": "alice",
                "assignees": [],
                "labels": list(labels),
                "events": events,
            }
            self._order = None
            return number


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeGitHub/1.0"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        fake: FakeGitHub = self.server.fake
        request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = fake.next_fault()  # every request counts, refused ones too
        if fake.delay:  # after counting it: a client killed at a count dies during the page
            time.sleep(fake.delay)
        if self.path not in ("/graphql", "/api/graphql"):
            return self.send(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/graphql"})
        token = self.headers.get("Authorization", "").partition(" ")[2]
        if token in fake.forbidden_tokens:
            message = "Resource not accessible by personal access token"
            return self.send(403, {"message": message}, fake.limit_headers(fake.rate_limit - 1))
        if token != fake.token:
            return self.send(
                401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql"}
            )
        limits = fake.spend()
        if limits.pop("refused"):
            return self.send(403, {"message": "API rate limit exceeded for user ID 1."}, limits)
        body = json.loads(request)
        answer = fake.answer(body["query"], body["variables"])
        if fault:
            return self.fault(fault, answer, limits)
        self.send(200, answer, limits)

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

    def fault(self, kind: str, answer: dict, limits: dict) -> None:
        fake: FakeGitHub = self.server.fake
        secondary = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        }
        if kind == "primary_403":
            reset = time.time() + fake.reset_seconds
            self.send(403, {"message": "API rate limit exceeded for user ID 1."}, fake.limit_headers(0, reset))
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
            self.send(200, answer, limits, cut=True)
        elif kind == "slow":
            time.sleep(fake.slow_seconds)
            self.send(200, answer, limits)
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
