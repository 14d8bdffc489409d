"""Stage train@<label>: one label's classifier -> paths.classifiers/<label>, with its val and test
scores for evaluate, and its training curves -> paths.training_logs/<label>."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ..classifier import train_label
from ..core import files
from ..core.command import stage_main
from ..core.config import Config
from ..core.errors import PipelineError
from ..dataset import SCORES, SPLITS, Processed, numbers, score_rows, targets, texts


def run(config: Config, slug: str) -> str:
    if slug not in config.labels:
        raise PipelineError(f"--label: expected one of {', '.join(config.labels)}; found {slug!r}")

    data = Processed(config.paths.processed)
    by_split = {split: data.split(split) for split in SPLITS}
    out_dir = Path(config.paths.classifiers) / slug
    checkpoints = Path(config.paths.checkpoints) / "train" / slug
    with files.atomic_dir(out_dir) as out, files.atomic_dir(Path(config.paths.training_logs) / slug) as logs:
        if data.summary["labels"][slug]["dropped"]:
            files.write_json(out / "meta.json", {"trained": False, "reason": "dropped by preprocess"})
            files.write_json(logs / "metrics.json", {"trained": False})
            files.write_jsonl(out / SCORES, [])
            return f"{slug}: dropped by preprocess (too few training issues), no model trained"
        scores = train_label(
            config, slug,
            {split: texts(rows) for split, rows in by_split.items()},
            {split: numbers(rows) for split, rows in by_split.items()},
            {split: targets(rows, slug) for split, rows in by_split.items()},
            out, logs, checkpoints,
        )  # fmt: skip
        files.write_jsonl(out / SCORES, score_rows(slug, by_split, scores))
    shutil.rmtree(checkpoints, ignore_errors=True)  # outputs are in place
    return f"{slug}: classifier saved to {out_dir}"


if __name__ == "__main__":
    sys.exit(stage_main("train", run, __doc__, label=True))
