"""Stage import_issues: the configured source's issues -> paths.raw."""

from __future__ import annotations

import sys

from ..core import files
from ..core.command import stage_main
from ..core.config import Config
from ..issues import load_issues


def run(config: Config) -> str:
    records = load_issues(config.import_, config.seed)
    files.write_jsonl(config.paths.raw, records)
    return f"imported {len(records)} issues from {config.import_.source} into {config.paths.raw}"


if __name__ == "__main__":
    sys.exit(stage_main("import-issues", run, __doc__))
