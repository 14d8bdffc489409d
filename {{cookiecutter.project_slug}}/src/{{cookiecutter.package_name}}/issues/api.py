"""GitHub's GraphQL endpoint (the import) and REST API (the label command) over plain HTTP (the
standard library's urllib): the token, the rate limits, retries, and errors a user can act on.

- Primary rate limit: every answer carries `x-ratelimit-remaining` and `x-ratelimit-reset`
  (epoch seconds). When fewer than LOW_BUDGET points remain, the client waits for the reset
  before asking again, and says so on the terminal; an answer that reports the limit exceeded
  (403 or 429 with no points left, or a GraphQL RATE_LIMITED error) waits for the reset too.
- Secondary rate limits: 403 or 429 with `Retry-After` waits that long; without it, at least a
  minute (SECONDARY_WAIT), as GitHub asks.
- 5xx answers, dropped or reset connections, timeouts, cut or malformed JSON bodies and pages
  with missing fields are retried with exponential backoff and full jitter, at most
  `max_retries` times per request, each wait at most MAX_BACKOFF seconds.
- 401 (bad token), 403 without a rate limit (no access; on a write: no `issues: write`), 404 (wrong
  API URL) and a repository GitHub cannot resolve (wrong repo) fail at once, with a message that
  says which.

The token goes into the Authorization header and nowhere else: no message prints a header.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

from .records import SourceError

LOW_BUDGET = 10  # points: a page of issues costs about 3
SECONDARY_WAIT = 60.0  # seconds, when a secondary limit gives no Retry-After
MAX_BACKOFF = 60.0  # seconds, the longest wait between two retries
MAX_WAIT = 3700.0  # seconds: a reset or Retry-After further away is a clock problem, not a plan
USER_AGENT = "issue-classifier-import"


class RetryableError(Exception):
    """A failure worth another try; the message says what happened."""


class RateLimited(Exception):
    def __init__(self, seconds: float, reason: str):
        super().__init__(reason)
        self.seconds = seconds


def say_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def graphql_url(api_url: str) -> str:
    """The GraphQL endpoint of an API root: https://api.github.com/graphql, or, for GitHub
    Enterprise, https://HOST/api/graphql beside the REST root https://HOST/api/v3."""
    root = api_url.rstrip("/")
    if root.endswith("/api/v3"):
        return root.removesuffix("/v3") + "/graphql"
    return root + "/graphql"


def duration(seconds: float) -> str:
    if seconds < 10:
        return f"{max(seconds, 0):.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class GitHubAPI:
    """One repository's GraphQL queries and REST calls, answered or failed with a SourceError."""

    def __init__(
        self,
        api_url: str,
        token: str,
        repo: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 8,
        backoff: float = 1.0,
        say: Callable[[str], None] = say_on_stderr,
        purpose: str = "GitHub import",
        again: str = "Run the import again to resume from its checkpoint.",
    ):
        self.endpoint = graphql_url(api_url)
        self.root = api_url.rstrip("/")
        self._token = token
        self.repo = repo
        self.timeout, self.max_retries, self.backoff = timeout, max_retries, backoff
        self.say, self.purpose, self.again = say, purpose, again
        self.remaining: int | None = None  # points left, from the last answer's headers
        self.reset_at: float | None = None  # epoch seconds
        self.requests = 0
        self.waited = 0.0  # seconds spent waiting on purpose: rate limits and backoff

    def query(self, query: str, variables: dict, parse: Callable[[dict], object] = lambda data: data):
        """parse(data) of the query's answer; `parse` raises RetryableError on a page it cannot use."""
        payload = json.dumps({"query": query, "variables": variables}).encode("utf-8")
        return self._retrying(lambda: parse(self._data(self._send(self.endpoint, "POST", payload)[0])))

    def rest(self, method: str, path: str, body: dict | None = None, missing_ok: bool = False):
        """The JSON answer of a REST call (`path` under the API root, e.g. /repos/o/r/issues/1) and the
        URL of its next page (None on the last); (None, None) for 404 or 410 when `missing_ok`."""
        return self._rest(method, self.root + path, body, missing_ok)

    def next_page(self, url: str):
        """The JSON answer at a `next` link, and the link after it."""
        return self._rest("GET", url, None, False)

    def _rest(self, method: str, url: str, body: dict | None, missing_ok: bool):
        payload = None if body is None else json.dumps(body).encode("utf-8")

        def attempt():
            raw, headers = self._send(url, method, payload, missing_ok)
            return (None, None) if raw is None else (_json(raw, self.say), _next_page(headers))

        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], object]):
        failures = 0
        while True:
            self._mind_budget()
            try:
                return attempt()
            except RateLimited as limit:
                failures = self._count(failures, str(limit))
                self._wait(limit.seconds, f"{limit}: waiting {duration(limit.seconds)}")
            except RetryableError as error:
                failures = self._count(failures, str(error))
                delay = min(MAX_BACKOFF, self.backoff * 2 ** (failures - 1)) * random.random()
                self._wait(delay, f"{error}; retry {failures} of {self.max_retries} in {delay:.1f} s")

    def _count(self, failures: int, reason: str) -> int:
        failures += 1
        if failures > self.max_retries:
            raise SourceError(
                f"{self.purpose} of {self.repo}: {reason}; gave up after {failures} attempts "
                f"(import.github.max_retries is {self.max_retries}). {self.again}"
            ) from None
        return failures

    def _wait(self, seconds: float, message: str) -> None:
        seconds = min(max(seconds, 0.0), MAX_WAIT)
        self.say(message)
        time.sleep(seconds)
        self.waited += seconds

    def _mind_budget(self) -> None:
        """Wait for the reset rather than spend the last points (or be refused)."""
        if self.remaining is None or self.remaining >= LOW_BUDGET or self.reset_at is None:
            return
        seconds = self.reset_at - time.time() + self.backoff  # a little past it: clocks differ
        if seconds > 0:
            at = datetime.fromtimestamp(self.reset_at, UTC).strftime("%H:%M:%S UTC")
            self._wait(seconds, f"rate limit: {self.remaining} points left; waiting {duration(seconds)} until {at}")
        self.remaining = None

    def _send(self, url: str, method: str, payload: bytes | None, missing_ok: bool = False):
        """(body, headers) of a successful answer; (None, headers) of a 404 or 410 when `missing_ok`."""
        headers = {"Authorization": f"bearer {self._token}", "Accept": "application/json", "User-Agent": USER_AGENT}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=payload, method=method, headers=headers)
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers = error.code, error.headers
            try:
                raw = error.read()
            except (OSError, http.client.HTTPException):
                raw = b""
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, cut short
            reason = getattr(error, "reason", None) or error.__class__.__name__
            raise RetryableError(f"no complete answer from {urllib.parse.urlsplit(url).netloc} ({reason})") from None
        self._note_budget(headers)
        if missing_ok and status in (404, 410):
            return None, headers
        if not 200 <= status < 300:
            self._fail_on_status(status, headers, raw, method, url)
        return raw, headers

    def _note_budget(self, headers) -> None:
        try:
            self.remaining = int(headers["x-ratelimit-remaining"])
            self.reset_at = float(headers["x-ratelimit-reset"])
        except (KeyError, TypeError, ValueError):
            pass

    def _until_reset(self) -> float:
        if self.reset_at is None:
            return SECONDARY_WAIT
        return self.reset_at - time.time() + self.backoff

    def _fail_on_status(self, status: int, headers, raw: bytes, method: str, url: str) -> None:
        message = _message(raw)
        if status == 401:
            raise SourceError(
                f"bad token: GitHub answered 401 Unauthorized ({message}); expected GITHUB_TOKEN to hold a valid, "
                "unexpired token for " + urllib.parse.urlsplit(self.endpoint).netloc
            )
        if status in (403, 429):
            retry_after = headers.get("retry-after")
            if retry_after is not None:
                raise RateLimited(_retry_after_seconds(retry_after), f"secondary rate limit (HTTP {status})")
            if headers.get("x-ratelimit-remaining") == "0":
                raise RateLimited(self._until_reset(), f"primary rate limit exhausted (HTTP {status})")
            if status == 429 or "rate limit" in message.lower():
                raise RateLimited(SECONDARY_WAIT, f"secondary rate limit (HTTP {status})")
            if method != "GET" and url != self.endpoint:
                raise SourceError(
                    f"no permission to write: GitHub answered 403 Forbidden ({message}) to {method} "
                    f"{urllib.parse.urlsplit(url).path}; expected a GITHUB_TOKEN with `issues: write` on {self.repo} "
                    "(a workflow: `permissions: issues: write`; a fine-grained token: Issues read and write)"
                )
            raise SourceError(
                f"no access: GitHub answered 403 Forbidden ({message}); expected a GITHUB_TOKEN allowed to read "
                f"the issues of {self.repo} (a classic token needs the `repo` scope for a private repository, "
                "a fine-grained one `Issues: read`)"
            )
        if status == 404:
            raise SourceError(
                f"wrong repo or API URL: 404 Not Found from {url}; expected import.github.repo to be an existing "
                "repository the token can read, and import.github.api_url "
                "the API root (https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise)"
            )
        if status >= 500:
            raise RetryableError(f"HTTP {status} from GitHub ({message})")
        raise SourceError(f"GitHub answered HTTP {status} ({message}) to {method} {urllib.parse.urlsplit(url).path}")

    def _data(self, raw: bytes) -> dict:
        body = _json(raw, self.say)
        if not isinstance(body, dict):
            raise RetryableError(f"malformed answer from GitHub: expected a JSON object; found {type(body).__name__}")
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        kinds = {str(e.get("type")) for e in errors}
        messages = "; ".join(str(e.get("message")) for e in errors)
        if kinds & {"RATE_LIMITED", "RATE_LIMIT"}:
            raise RateLimited(self._until_reset(), "primary rate limit exhausted")
        if "NOT_FOUND" in kinds:
            raise NotFound(errors, messages, self.repo)
        if kinds & {"FORBIDDEN", "INSUFFICIENT_SCOPES", "UNAUTHORIZED"}:
            raise SourceError(
                f"no access: GitHub refused the query ({messages}); expected a GITHUB_TOKEN allowed to read "
                f"the issues of {self.repo}"
            )
        if errors or not isinstance(body.get("data"), dict):
            raise RetryableError(f"GitHub could not answer the query ({messages or 'no data'})")
        return body["data"]


class NotFound(SourceError):
    """GitHub resolved no repository (or issue) by that name: `path` says which."""

    def __init__(self, errors: list[dict], messages: str, repo: str):
        self.path = [str(part) for part in (errors[0].get("path") or [])]
        super().__init__(
            f"wrong repo: GitHub found no repository {repo} that this token can read ({messages}); "
            "expected import.github.repo to be owner/name of an existing repository (a private one needs "
            "a token with access to it)"
        )


def _json(raw: bytes, say: Callable[[str], None]):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        say(f"warning: invalid UTF-8 in GitHub's answer (byte {error.start}); replaced by U+FFFD")
        text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RetryableError(f"malformed JSON from GitHub ({error.msg} at character {error.pos})") from None


def _next_page(headers) -> str | None:
    """The rel="next" URL of a Link header (REST paging), if any."""
    for part in (headers.get("link") or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


def _message(raw: bytes) -> str:
    """GitHub's error message from a JSON body, or the start of a non-JSON one."""
    text = raw.decode("utf-8", errors="replace")
    try:
        return str(json.loads(text).get("message") or text[:200])
    except (json.JSONDecodeError, AttributeError):
        return " ".join(text[:200].split()) or "no message"


def _retry_after_seconds(value: str) -> float:
    """Retry-After is seconds, or an HTTP date."""
    try:
        return float(value)
    except ValueError:
        try:
            return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return SECONDARY_WAIT
