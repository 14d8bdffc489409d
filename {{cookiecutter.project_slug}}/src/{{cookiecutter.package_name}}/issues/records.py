"""The issue record every source produces, one JSON object a line in data/raw/issues.jsonl:
number, title, body, labels (names as on GitHub), created_at, state, and `split` when the
source has one (train | val | test). Sources that know more add updated_at, closed_at,
assignees, author ("ghost" for a deleted account) and label_events: who added or removed each
label and when, [{type: added | removed, label, actor, created_at}], oldest first."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime

from ..core.errors import PipelineError
from ..dataset import SPLITS

GHOST = "ghost"  # GitHub's name for a deleted account
EVENT_TYPES = {"added": "added", "labeled": "added", "removed": "removed", "unlabeled": "removed"}
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class SourceError(PipelineError):
    """Issues could not be read; the message names the file or key, what was expected and found."""


def clean_text(text: str) -> str:
    """Lone UTF-16 surrogates (half an emoji, cut by a careless client) cannot be written as UTF-8:
    each becomes U+FFFD, the replacement character."""
    return _SURROGATE.sub("\ufffd", text)


def check_records(records: Iterable[dict], where: str) -> list[dict]:
    """Typed, complete records, or a SourceError naming the first bad one. Pull requests (GitHub's
    REST API lists them with the issues) are left out, with a warning that counts them. `records`
    may be a stream, read once."""
    seen: set[int] = set()
    out = []
    pulls = 0
    for position, raw in enumerate(records, start=1):
        if raw.get("pull_request"):
            pulls += 1
            continue
        item = f"{where}, issue #{position}"
        number = raw.get("number", position)
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool):
            raise SourceError(f"{item}: `number` expected an integer; found {number!r}")
        if number in seen:
            raise SourceError(f"{item}: duplicate issue number {number}; expected each number once")
        seen.add(number)
        labels = raw.get("labels") or []
        if not isinstance(labels, list):
            raise SourceError(f"{item}: `labels` expected a list of names; found {labels!r}")
        labels = [label.get("name") if isinstance(label, dict) else label for label in labels]
        if not all(isinstance(label, str) for label in labels):
            raise SourceError(f"{item}: `labels` expected a list of names; found {raw.get('labels')!r}")
        title, body = raw.get("title") or "", raw.get("body") or ""
        if not isinstance(title, str) or not isinstance(body, str):
            raise SourceError(
                f"{item}: `title` and `body` expected strings; found {type(title).__name__} and {type(body).__name__}"
            )
        record = {
            "number": number,
            "title": clean_text(title),
            "body": clean_text(body),
            "labels": [clean_text(label) for label in labels],
            "created_at": _time(raw.get("created_at") or raw.get("createdAt"), item, "created_at") or "",
            "state": str(raw.get("state") or "").lower(),
        }
        split = raw.get("split")
        if split not in (None, ""):
            if split not in SPLITS:
                raise SourceError(f"{item}: `split` expected one of {', '.join(SPLITS)}; found {split!r}")
            record["split"] = split
        record.update(_optional_fields(raw, item))
        out.append(record)
    if pulls:
        warnings.warn(f"{where}: left out {pulls} pull requests; only issues are learned", stacklevel=2)
    if not out:
        only = ", only pull requests" if pulls else ""
        raise SourceError(f"{where}: no issues found{only}; expected at least one issue")
    return out


def _optional_fields(raw: dict, item: str) -> dict:
    """The fields only some sources have, under one name whatever the source calls them."""
    found = {}
    for key, alias in (("updated_at", "updatedAt"), ("closed_at", "closedAt")):
        if key in raw or alias in raw:
            found[key] = _time(raw.get(key, raw.get(alias)), item, key)
    if "assignees" in raw:
        assignees = raw["assignees"] or []
        if not isinstance(assignees, list):
            raise SourceError(f"{item}: `assignees` expected a list of logins; found {assignees!r}")
        found["assignees"] = [_login(person, item, "assignees") for person in assignees]
    for key in ("author", "user"):  # GraphQL and gh say author, the REST API user
        if key in raw:
            found["author"] = _login(raw[key], item, key)
            break
    for key in ("label_events", "labelEvents"):
        if key in raw:
            found["label_events"] = [_label_event(event, item) for event in raw[key] or []]
            break
    return found


def _time(value, item: str, key: str) -> str | None:
    """Timestamps as given (ISO 8601), or from epoch milliseconds (vscode's dumps)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not isinstance(value, str):
        raise SourceError(f"{item}: `{key}` expected an ISO timestamp or epoch milliseconds; found {value!r}")
    return value


def _login(value, item: str, key: str) -> str:
    """A login from a name, a {login} object, or nothing (a deleted account: ghost)."""
    if isinstance(value, dict):
        value = value.get("login")
    if value is None:
        return GHOST
    if not isinstance(value, str):
        raise SourceError(f"{item}: `{key}` expected a login or an object with a login; found {value!r}")
    return value


def _label_event(event, item: str) -> dict:
    if not isinstance(event, dict):
        raise SourceError(f"{item}: `label_events` expected objects; found {event!r}")
    kind = EVENT_TYPES.get(str(event.get("type") or event.get("event") or "").lower())
    if kind is None:
        raise SourceError(
            f"{item}: label event `type` expected added or removed (or labeled, unlabeled); found {event!r}"
        )
    label = event.get("label")
    if isinstance(label, dict):
        label = label.get("name")
    if label is not None and not isinstance(label, str):
        raise SourceError(f"{item}: label event `label` expected a name; found {event.get('label')!r}")
    out = {"type": kind, "label": None if label is None else clean_text(label)}
    if "actor" in event:
        out["actor"] = _login(event["actor"], item, "actor")
    when = _time(event.get("created_at") or event.get("createdAt"), item, "created_at")
    if when:
        out["created_at"] = when
    return out
