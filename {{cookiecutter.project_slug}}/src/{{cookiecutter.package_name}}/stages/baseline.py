"""Stage baseline: its text rules chosen by cross-validation on train (baseline.text), then TF-IDF +
logistic regression per label on all of train -> paths.baseline, with its val and test scores, for
comparison and for the blend."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from .. import baseline as tfidf
from ..core import files
from ..core.command import stage_main
from ..core.config import Config, baseline_texts
from ..dataset import SCORES, SPLITS, Processed, score_rows, targets
from ..text import normalise


def run(config: Config) -> str:
    data = Processed(config.paths.processed)
    by_split = {split: data.split(split) for split in SPLITS}
    slugs, choices = data.labels(), baseline_texts(config)
    raw: dict[int, dict] = {}

    def issues(rows: list[dict]) -> list[tuple[str, str]]:  # their title and body, as imported
        if not raw:
            raw.update((issue["number"], issue) for issue in files.read_jsonl(config.paths.raw))
        return [(raw[row["number"]].get("title") or "", raw[row["number"]].get("body") or "") for row in rows]

    train = by_split["train"]
    spaced = np.linspace(0, len(train) - 1, min(len(train), config.baseline.text.max_issues))
    sample = [train[i] for i in np.unique(spaced.round().astype(int))]  # evenly spaced: the choice's cost bounded
    best, scores = 0, [None]
    if len(choices) > 1:
        own = [row["labels"] for row in sample]
        best, scores = tfidf.choose_text(config.baseline, choices, issues(sample), own, slugs, config.seed)
    rules = choices[best]
    if rules == config.preprocess.text:  # preprocess's text, as it made it
        texts = {split: [row["text"] for row in rows] for split, rows in by_split.items()}
    else:
        texts = {split: [normalise(*issue, rules) for issue in issues(rows)] for split, rows in by_split.items()}
    labels = {slug: targets(train, slug) for slug in slugs}
    with files.atomic_dir(config.paths.baseline) as out:
        scored = {split: texts[split] for split in ("val", "test")}
        vectorizer, fitted = tfidf.fit_all(config.baseline, texts["train"], labels, config.seed, scored)
        tfidf.save(vectorizer, out / tfidf.VECTORIZER)
        tried = [{"option": option, "mean_average_precision": score, "chosen": i == best}
                 for i, (option, score) in enumerate(zip(config.baseline.text.options, scores))]  # fmt: skip
        tfidf.save_text(out, rules, tried)

        def rows():  # each label's model saved, then its scores: streamed into one file
            for slug, model, split_scores in fitted:
                tfidf.save(model, out / f"{slug}.pkl")
                yield from score_rows(slug, by_split, split_scores)

        files.write_jsonl(out / SCORES, rows())
    changed = {key: value for key, value in dataclasses.asdict(rules).items()
               if value != getattr(config.preprocess.text, key)}  # fmt: skip
    chosen = f"text as preprocess.text with {changed}" if changed else "text as preprocess.text"
    return f"baseline models and scores saved to {config.paths.baseline} ({chosen}, of {len(choices)} options)"


if __name__ == "__main__":
    sys.exit(stage_main("baseline", run, __doc__))
