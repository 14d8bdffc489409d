"""Where issues come from: the demo corpus, a dump file, or the GitHub API.

Every source yields the same records (see `records.py`). Only `github` touches the network.
"""

from __future__ import annotations

from ..core.config import ImportConfig
from . import demo, dump, github
from .records import SourceError, check_records

__all__ = ["SourceError", "load_issues"]


def load_issues(options: ImportConfig, seed: int) -> list[dict]:
    """The issues of the configured source; `seed` (config.yaml's) draws the demo corpus."""
    if options.source == "demo":
        return check_records(demo.generate(options.demo_issues, seed=seed), "the demo corpus")
    if options.source == "file" and options.test_file:
        return dump.read_split_dumps(options.file, options.test_file, repo_filter=options.repo_filter)
    if options.source == "file":
        return dump.read_dump(options.file, repo_filter=options.repo_filter)
    return check_records(github.import_issues(options.github), f"GitHub repository {options.github.repo}")
