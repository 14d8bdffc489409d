"""Stage train: every label's classifier -> paths.classifiers/<label>, with its val and test scores
for evaluate, and its training curves -> paths.training_logs/labels/<label>.

One stage for all the labels, in one process: DVC rewrites all of dvc.lock after each stage it
runs, so a stage per label would cost time in the square of the labels (about 7 s a stage at 200).
Each label's folder keeps the key of what it was trained from (classifier.label_key: the code, the
data, the encoder, the label's parameters, the seed; training is deterministic), and the folders
persist between runs: a label whose key is unchanged keeps its model. So a change to one label's
values retrains that label alone, and a run stopped midway goes on from the labels it had not
finished. `--label <slug>` (repeatable) retrains only the labels named, whatever their keys.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from .. import classifier
from ..core import files
from ..core.command import raise_if_stopped, stage_main
from ..core.config import Config
from ..core.errors import PipelineError
from ..dataset import SCORES, SPLITS, Processed, numbers, score_rows, targets, texts

CURVES = "labels"  # paths.training_logs/labels/<label>: beside finetune_lm's


def _stored_key(folder: Path) -> str | None:
    try:
        return json.loads((folder / "meta.json").read_text()).get("key")
    except (OSError, ValueError):
        return None


def _remove_unknown(folder: Path, slugs: dict) -> list[str]:
    """Remove the folders of labels that config.yaml no longer has."""
    gone = sorted(path.name for path in folder.iterdir() if path.is_dir() and path.name not in slugs)
    for name in gone:
        shutil.rmtree(folder / name)
    return gone


def run(config: Config, retrain: list[str]) -> str:
    unknown = [slug for slug in retrain if slug not in config.labels]
    if unknown:
        raise PipelineError(
            f"--label: expected one of {', '.join(config.labels)}; found {', '.join(map(repr, unknown))}"
        )

    models, curves = Path(config.paths.classifiers), Path(config.paths.training_logs) / CURVES
    models.mkdir(parents=True, exist_ok=True)
    curves.mkdir(parents=True, exist_ok=True)
    removed = sorted(set(_remove_unknown(models, config.labels) + _remove_unknown(curves, config.labels)))
    data = Processed(config.paths.processed)
    by_split = {split: data.split(split) for split in SPLITS}
    inputs = classifier.inputs_key(config)
    way = None  # made at the first label that trains: a run that keeps every label reads no vectors
    trained, kept, dropped = [], [], []
    for slug in retrain or config.labels:
        raise_if_stopped()
        key = classifier.label_key(config, slug, inputs)
        if not retrain and _stored_key(models / slug) == key and (curves / slug).is_dir():
            kept.append(slug)
            continue
        checkpoints = Path(config.paths.checkpoints) / "train" / slug
        with files.together(models / slug, curves / slug) as staged:
            out, logs = staged[models / slug], staged[curves / slug]
            out.mkdir()
            logs.mkdir()
            if data.summary["labels"][slug]["dropped"]:
                files.write_json(out / "meta.json", {"trained": False, "reason": "dropped by preprocess", "key": key})
                files.write_json(logs / "metrics.json", {"trained": False})
                files.write_jsonl(out / SCORES, [])
                dropped.append(slug)
                continue
            if way is None:
                way = classifier.way(config, {s: texts(r) for s, r in by_split.items()},
                                     {s: numbers(r) for s, r in by_split.items()})  # fmt: skip
            split_targets = {split: targets(rows, slug) for split, rows in by_split.items()}
            scores = classifier.train_label(config, slug, way, split_targets, out, logs, checkpoints, key)
            files.write_jsonl(out / SCORES, score_rows(slug, by_split, scores))
        if slug in dropped:
            print(f"{slug}: dropped by preprocess (too few training issues), no model trained")
            continue
        shutil.rmtree(checkpoints, ignore_errors=True)  # outputs are in place
        trained.append(slug)
        print(f"{slug}: classifier saved to {models / slug}")
    if not retrain:
        shutil.rmtree(Path(config.paths.checkpoints) / "train", ignore_errors=True)
    summary = f"train: {len(trained)} trained, {len(kept)} unchanged (kept), {len(dropped)} dropped by preprocess"
    return summary + (f"; removed {', '.join(removed)}" if removed else "")


if __name__ == "__main__":
    sys.exit(stage_main("train", run, __doc__, label=True))
