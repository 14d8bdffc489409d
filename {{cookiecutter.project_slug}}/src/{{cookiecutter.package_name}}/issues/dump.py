"""Read an issue dump: JSONL (one issue a line), a JSON array of issues (GitHub REST API, `gh issue
list --json number,title,body,labels,state,createdAt`), or CSV (columns title, body, label or labels,
and optional split, number, created_at, state, repo).

vscode's `issues.json` is JSONL too: its createdAt (epoch milliseconds), labels ({name, color}),
assignees and labelEvents ({type: added, label, actor} or {type: removed, label}) become the
record's created_at, labels, assignees and label_events (records.py); the title and body its label
events carry are not kept.

A JSONL dump is read a line at a time, each row checked as it comes: a big tracker's dump is held
once, as records, not also as its bytes, its text and its raw rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from .records import SourceError, check_records

BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark, which some tools write first


def read_dump(path: str | Path, repo_filter: str | None = None) -> list[dict]:
    return check_records(read_rows(path, repo_filter), str(path))


def read_split_dumps(train_path: str | Path, test_path: str | Path, repo_filter: str | None = None) -> list[dict]:
    """Two dumps, as data sets often come: the first's issues are train (unless they say otherwise),
    the second's are test. Rows without a number are numbered on from the first file's last."""
    train = read_dump(train_path, repo_filter)
    for record in train:
        record.setdefault("split", "train")
    first = max(record["number"] for record in train) + 1

    def rows():
        for position, row in enumerate(read_rows(test_path, repo_filter, key="import.test_file")):
            yield {"number": first + position, **row, "split": "test"}

    test = check_records(rows(), str(test_path))
    both = sorted({record["number"] for record in train} & {record["number"] for record in test})
    if both:
        raise SourceError(
            f"import.test_file: issue numbers {both[:5]} are in both {train_path} and {test_path}; "
            "expected each issue in one file"
        )
    return train + test


def read_rows(path: str | Path, repo_filter: str | None = None, key: str = "import.file") -> Iterator[dict]:
    """The file's issues as raw rows, before `check_records`. The file's name is checked now, its
    rows as they are read."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{key}: {path} not found; expected a .jsonl or .csv dump of issues")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv(_text(path), path)
    elif suffix == ".json" and _starts_with_bracket(path):
        rows = _read_json_array(_text(path), path)  # GitHub REST API pages, `gh issue list --json ...`
    elif suffix in (".jsonl", ".ndjson", ".json"):
        rows = _read_jsonl(path)
    else:
        raise SourceError(f"{key}: expected a .jsonl or .csv file; found {path.name!r}")
    return rows if repo_filter is None else _of_repo(rows, repo_filter, path)


def _of_repo(rows: Iterable[dict], repo: str, path: Path) -> Iterator[dict]:
    found = False
    for row in rows:
        if row.get("repo") == repo:
            found = True
            yield row
    if not found:
        raise SourceError(f"import.repo_filter: no row of {path} has repo {repo!r}")


def _decoded(raw: bytes, path: Path, line: int = 1, offset: int = 0) -> str:
    """`raw` as UTF-8, or a SourceError naming the line and byte (of the file) where it is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line += raw[: error.start].count(b"\n")
        raise SourceError(
            f"{path}: line {line}: invalid UTF-8 (byte {offset + error.start}); expected UTF-8 text"
        ) from None


def _text(path: Path) -> str:
    return _decoded(path.read_bytes().removeprefix(BOM), path)


def _starts_with_bracket(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(64 * 1024).removeprefix(BOM).lstrip().startswith(b"[")


def _read_jsonl(path: Path) -> Iterator[dict]:
    with path.open("rb") as handle:
        offset = 0
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(BOM)
            line, offset = _decoded(raw, path, number, offset), offset + len(raw)
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise SourceError(
                    f"{path}: line {number}: not valid JSON ({error.msg}); expected one issue object a line"
                ) from None
            if not isinstance(row, dict):
                raise SourceError(f"{path}: line {number}: expected a JSON object; found {type(row).__name__}")
            yield row


def _read_json_array(text: str, path: Path) -> list[dict]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{path}: line {error.lineno}: not valid JSON ({error.msg}); expected an array of issues"
        ) from None
    for position, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise SourceError(f"{path}: item {position}: expected a JSON object; found {type(row).__name__}")
    return rows


def _read_csv(text: str, path: Path) -> list[dict]:
    # Fields of any size (a pasted build log): no field is longer than the file; preprocess cuts
    # the text at preprocess.text.max_chars. The csv module's limit is 128 KiB by default.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = set(reader.fieldnames or [])
    missing = {"title", "body"} - columns
    if missing or not columns & {"label", "labels"}:
        raise SourceError(
            f"{path}: expected columns title, body and label (or labels); found {', '.join(sorted(columns)) or 'none'}"
        )
    rows = []
    for row in reader:
        names = row.get("labels") if "labels" in columns else row.get("label")
        row["labels"] = [name.strip() for name in (names or "").split(",") if name.strip()]
        row.pop("label", None)
        rows.append(row)
    return rows
