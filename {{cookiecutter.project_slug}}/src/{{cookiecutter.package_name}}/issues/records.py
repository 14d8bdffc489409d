"""The issue record every source produces, one JSON object a line in data/raw/issues.jsonl:
number, title, body, labels (names as on GitHub), created_at, state, and `split` when the
source has one (train | val | test)."""

from __future__ import annotations

from ..errors import PipelineError

SPLITS = ("train", "val", "test")


class SourceError(PipelineError):
    """Issues could not be read; the message names the file or key, what was expected and found."""


def check_records(records: list[dict], where: str) -> list[dict]:
    """Typed, complete records, or a SourceError naming the first bad one."""
    if not records:
        raise SourceError(f"{where}: no issues found; expected at least one issue")
    seen: set[int] = set()
    out = []
    for position, raw in enumerate(records, start=1):
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
            "title": title,
            "body": body,
            "labels": labels,
            "created_at": str(raw.get("created_at") or raw.get("createdAt") or ""),
            "state": str(raw.get("state") or "").lower(),
        }
        split = raw.get("split")
        if split not in (None, ""):
            if split not in SPLITS:
                raise SourceError(f"{item}: `split` expected one of {', '.join(SPLITS)}; found {split!r}")
            record["split"] = split
        out.append(record)
    return out
