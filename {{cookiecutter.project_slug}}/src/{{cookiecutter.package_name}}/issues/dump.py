"""Read an issue dump: JSONL (one issue a line), a JSON array of issues (GitHub REST API, `gh issue
list --json number,title,body,labels,state,createdAt`), or CSV (columns title, body, label or labels,
and optional split, number, created_at, state, repo).

vscode's `issues.json` is JSONL too: its createdAt (epoch milliseconds), labels ({name, color}),
assignees and labelEvents ({type: added, label, actor} or {type: removed, label}) become the
record's created_at, labels, assignees and label_events (records.py); the title and body its label
events carry are not kept."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .records import SourceError, check_records


def read_dump(path: str | Path, repo_filter: str | None = None) -> list[dict]:
    return check_records(read_rows(path, repo_filter), str(path))


def read_split_dumps(train_path: str | Path, test_path: str | Path, repo_filter: str | None = None) -> list[dict]:
    """Two dumps, as data sets often come: the first's issues are train (unless they say otherwise),
    the second's are test. Rows without a number are numbered on from the first file's last."""
    train = read_dump(train_path, repo_filter)
    for record in train:
        record.setdefault("split", "train")
    rows = read_rows(test_path, repo_filter, key="import.test_file")
    first = max(record["number"] for record in train) + 1
    for position, row in enumerate(rows):
        row.setdefault("number", first + position)
        row["split"] = "test"
    test = check_records(rows, str(test_path))
    both = sorted({record["number"] for record in train} & {record["number"] for record in test})
    if both:
        raise SourceError(
            f"import.test_file: issue numbers {both[:5]} are in both {train_path} and {test_path}; "
            "expected each issue in one file"
        )
    return train + test


def read_rows(path: str | Path, repo_filter: str | None = None, key: str = "import.file") -> list[dict]:
    """The file's issues as raw rows, before `check_records`."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{key}: {path} not found; expected a .jsonl or .csv dump of issues")
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SourceError(f"{path}: line {line}: invalid UTF-8 (byte {error.start}); expected UTF-8 text") from None
    if path.suffix.lower() == ".csv":
        rows = _read_csv(text, path)
    elif path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        rows = _read_json_array(text, path)  # GitHub REST API pages, `gh issue list --json ...`
    elif path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = _read_jsonl(text, path)
    else:
        raise SourceError(f"{key}: expected a .jsonl or .csv file; found {path.name!r}")
    if repo_filter is not None:
        rows = [row for row in rows if row.get("repo") == repo_filter]
        if not rows:
            raise SourceError(f"import.repo_filter: no row of {path} has repo {repo_filter!r}")
    return rows


def _read_jsonl(text: str, path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
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
        rows.append(row)
    return rows


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
