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
    train, scored = by_split["train"], {split: texts(by_split[split]) for split in ("val", "test")}
    labels = {slug: targets(train, slug) for slug in data.labels()}
    with files.atomic_dir(config.paths.baseline) as out:
        vectorizer, fitted = tfidf.fit_all(config.baseline, texts(train), labels, config.seed, scored)
        tfidf.save(vectorizer, out / tfidf.VECTORIZER)

        def rows():  # each label's model saved, then its scores: streamed into one file
            for slug, model, scores in fitted:
                tfidf.save(model, out / f"{slug}.pkl")
                yield from score_rows(slug, by_split, scores)

        files.write_jsonl(out / SCORES, rows())
    return f"baseline models and scores saved to {config.paths.baseline}"


if __name__ == "__main__":
    sys.exit(stage_main("baseline", run, __doc__))
