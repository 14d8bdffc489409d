"""Where issues come from: the demo corpus, a dump file, or the GitHub API.

Every source yields the same records (see `records.py`).
"""

from __future__ import annotations

from ..config import ImportConfig
from . import demo, dump
from .records import SourceError, check_records

__all__ = ["SourceError", "load_issues"]


def load_issues(options: ImportConfig) -> list[dict]:
    if options.source == "demo":
        return check_records(demo.generate(options.demo_issues, seed=0), "the demo corpus")
    if options.source == "file":
        return dump.read_dump(options.file, repo_filter=options.repo_filter)
    raise SourceError(
        "import.source: 'github' is not available yet in this version; export the issues to a "
        "file and set import.source to 'file' (README: 'Use your own data')"
    )
