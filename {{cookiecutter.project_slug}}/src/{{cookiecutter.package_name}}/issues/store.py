"""The GitHub import's checkpoint: every issue fetched so far, kept between runs.

It lives in `import.github.cache_dir` (default `.cache/import/`, ignored by git), one folder per
API host and repository, and not in a DVC output: DVC deletes a stage's outputs before running
it, so a checkpoint there would not survive the killed or failed run it is meant to resume.

    issues.jsonl   the issues of every finished pass, one a line, by number
    pages.jsonl    the issues of the pass under way, appended page by page (flushed to disk)
    state.json     the pass under way (its `since` and the cursor after its last stored page),
                   and the newest `updated_at` of the finished ones, where the next pass starts

A page is appended before the cursor that follows it is saved, so a run killed at any moment
fetches at most that page again; a line cut short by the kill is dropped when the store is
opened. Issues merge by number, the newest `updated_at` winning: fetching an issue twice (a
page again, or an issue edited while the pass runs) never duplicates it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..core import files

FORMAT = 1  # bumped when the stored records change shape: an old store is then started afresh


def merge(issues: dict[int, dict], record: dict) -> None:
    """Keep `record` unless the store holds a newer version of the same issue."""
    old = issues.get(record["number"])
    if old is None or record["updated_at"] >= old["updated_at"]:
        issues[record["number"]] = record


class IssueStore:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.issues_path = self.folder / "issues.jsonl"
        self.pages_path = self.folder / "pages.jsonl"
        self.state_path = self.folder / "state.json"

    def load(self) -> tuple[dict[int, dict], dict]:
        """The issues stored so far and the state; nothing and {} for a new (or outdated) store."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            state = {}
        if state.get("format") != FORMAT:
            shutil.rmtree(self.folder, ignore_errors=True)
            return {}, {"format": FORMAT}
        issues: dict[int, dict] = {}
        if self.issues_path.exists():
            for record in files.read_jsonl(self.issues_path):
                issues[record["number"]] = record
        for record in self._read_pages():
            merge(issues, record)
        return issues, state

    def _read_pages(self) -> list[dict]:
        if not self.pages_path.exists():
            return []
        data = self.pages_path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) < len(data):  # the run was killed while writing a line: drop its remains
            with open(self.pages_path, "r+b") as handle:
                handle.truncate(len(complete))
        return [json.loads(line) for line in complete.decode("utf-8").splitlines() if line.strip()]

    def add_page(self, records: list[dict], state: dict) -> None:
        """Append one page's issues, then save the state that says it is stored (its cursor)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.pages_path, "a", encoding="utf-8", newline="\n") as handle:
            handle.write("".join(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n" for record in records))
            handle.flush()
            os.fsync(handle.fileno())
        files.write_json(self.state_path, state)

    def finish(self, issues: dict[int, dict], state: dict) -> None:
        """Fold the pass into issues.jsonl; each step leaves a store that loads to the same issues."""
        files.write_jsonl(self.issues_path, [issues[number] for number in sorted(issues)])
        files.write_json(self.state_path, state)
        self.pages_path.unlink(missing_ok=True)
