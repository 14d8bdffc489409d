"""Stage baseline: TF-IDF + logistic regression per label -> paths.baseline, with its val and test
scores, for comparison and for the blend."""

from __future__ import annotations

import sys

from .. import baseline as tfidf
from ..core import files
from ..core.command import stage_main
from ..core.config import Config
from ..dataset import SCORES, SPLITS, Processed, score_rows, targets, texts


def run(config: Config) -> str:
    data = Processed(config.paths.processed)
    by_split = {split: data.split(split) for split in SPLITS}
    train = by_split["train"]
    rows = []
    with files.atomic_dir(config.paths.baseline) as out:
        for slug in data.labels():
            model = tfidf.fit(config.baseline, texts(train), targets(train, slug), config.seed)
            tfidf.save(model, out / f"{slug}.pkl")
            scores = {split: tfidf.scores(model, texts(by_split[split])) for split in ("val", "test")}
            rows += score_rows(slug, by_split, scores)
        files.write_jsonl(out / SCORES, rows)
    return f"baseline models and scores saved to {config.paths.baseline}"


if __name__ == "__main__":
    sys.exit(stage_main("baseline", run, __doc__))
