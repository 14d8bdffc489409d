"""Stage preprocess: raw issues -> model text, label slugs and splits (paths.processed)."""

from __future__ import annotations

import sys

from ..core import files
from ..core.command import stage_main
from ..core.config import Config
from ..dataset import write_processed
from ..preprocess import preprocess


def run(config: Config) -> str:
    rows, summary = preprocess(config, files.read_jsonl(config.paths.raw))
    with files.atomic_dir(config.paths.processed) as out:
        write_processed(out, rows, summary)
    return f"preprocessed {len(rows)} issues: {summary['splits']}"


if __name__ == "__main__":
    sys.exit(stage_main("preprocess", run, __doc__))
