"""Stage baseline: its text rules chosen by cross-validation on train (baseline.text), then TF-IDF +
logistic regression per label -> paths.baseline, with its val and test scores, for comparison and
for the blend. Val is scored by a fit on train alone, so evaluate chooses on issues the model never
saw; with baseline.refit the saved models are then fitted on train and val, so the deployed
baseline learns from every labelled training issue."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from .. import baseline as tfidf
from ..core import files
from ..core.command import stage_main
from ..core.config import Config, baseline_options
from ..dataset import SCORES, SPLITS, Processed, score_rows, targets


def run(config: Config) -> str:
    data = Processed(config.paths.processed)
    by_split = {split: data.split(split) for split in SPLITS}
    slugs, choices = data.labels(), baseline_options(config)
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
    chosen = choices[best]
    if chosen.text == config.preprocess.text and not chosen.title_ngrams:  # preprocess's text, as it made it
        texts = {split: [row["text"] for row in rows] for split, rows in by_split.items()}
    else:
        texts = {split: [tfidf.document(*issue, chosen.text, chosen.title_ngrams) for issue in issues(rows)]
                 for split, rows in by_split.items()}  # fmt: skip
    fit_rows, fit_texts, scored = train, texts["train"], {split: texts[split] for split in ("val", "test")}
    held: dict[str, dict[str, np.ndarray]] = {slug: {} for slug in slugs}  # val's scores by the fit on train
    refit = config.baseline.refit and bool(by_split["val"])
    if refit:
        labels = {slug: targets(train, slug) for slug in slugs}
        _, fitted = tfidf.fit_all(config.baseline, texts["train"], labels, config.seed, {"val": texts["val"]},
                                  chosen.title_ngrams)  # fmt: skip
        held = {slug: split_scores for slug, _, split_scores in fitted}
        fit_rows, fit_texts, scored = train + by_split["val"], texts["train"] + texts["val"], {"test": texts["test"]}
    labels = {slug: targets(fit_rows, slug) for slug in slugs}
    with files.atomic_dir(config.paths.baseline) as out:
        vectorizer, fitted = tfidf.fit_all(config.baseline, fit_texts, labels, config.seed, scored, chosen.title_ngrams)
        tfidf.save(vectorizer, out / tfidf.VECTORIZER)
        tried = [{"option": option, "mean_average_precision": score, "chosen": i == best}
                 for i, (option, score) in enumerate(zip(config.baseline.text.options, scores))]  # fmt: skip
        tfidf.save_text(out, chosen, tried)

        def rows():  # each label's model saved, then its scores: streamed into one file
            for slug, model, split_scores in fitted:
                tfidf.save(model, out / f"{slug}.pkl")
                yield from score_rows(slug, by_split, {**held[slug], **split_scores})

        files.write_jsonl(out / SCORES, rows())
    changed = {key: value for key, value in dataclasses.asdict(chosen.text).items()
               if value != getattr(config.preprocess.text, key)}  # fmt: skip
    changed.update({"title_ngrams": True} if chosen.title_ngrams else {})
    rules = f"text as preprocess.text with {changed}" if changed else "text as preprocess.text"
    fitted_on = "train and val" if refit else "train"
    return (f"baseline models (fitted on {fitted_on}) and scores saved to {config.paths.baseline} "
            f"({rules}, of {len(choices)} options)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(stage_main("baseline", run, __doc__))
