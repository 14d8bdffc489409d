"""Would cross-fitting choose a better blend weight than val? An experiment for issue 17.

    .venv/bin/python benchmarks/quality.py --seeds 42 --keep          # prints where the projects are
    .venv/bin/python benchmarks/cross_fit.py /tmp/quality-XXXX/seed-42/facebook-react/bench

In a project `quality.py` kept (its pipeline run), the train split is cut into k stratified,
seeded folds; for each fold the encoder is fine-tuned again (masked LM and supervised phase, the
project's config) without the fold's labels, and a logistic regression on its vectors (a
stand-in for the heads) scores the fold; the baseline, with the project's chosen text rules, is
fitted without the fold and scores it too. On those out-of-fold scores of every train issue,
evaluate's own rule (`choose_weight`) picks a blend weight, which is set against the weight the
project chose on val: the test split's macro F1 of the project's models blended at each. Prints
the out-of-fold mean average precision of each weight and the out-of-fold macro F1 of the
classifier, the even blend and the baseline (compare with test: an honest estimate comes close).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from kept import open_kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", type=Path, help="a project quality.py kept (its folder `bench`)")
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    project = open_kept(args.project)
    from bench import baseline as tfidf
    from bench.core import files
    from bench.dataset import SCORES, read_scores, targets, texts
    from bench.encoder import Encoder
    from bench.evaluate import blend, choose_weight, single_label
    from bench.language_model import finetune
    from sklearn.linear_model import LogisticRegression

    config, train, val, test, slugs = project.config, project.train, project.val, project.test, project.slugs
    train_texts, unsupervised, title_ngrams = texts(train), project.unsupervised, project.title_ngrams
    fold = tfidf.folds([row["labels"] for row in train], args.folds, config.seed)
    documents = project.documents(train)
    y = np.stack([targets(train, slug) for slug in slugs], axis=1)
    classifier, baseline = np.zeros(y.shape), np.zeros(y.shape)
    start, work = time.perf_counter(), Path(tempfile.mkdtemp(prefix="cross-fit-"))
    for f in range(args.folds):
        inside, out = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        encoder_dir = work / f"encoder-{f}"
        encoder_dir.mkdir()
        finetune(config, unsupervised, ([train_texts[i] for i in inside], y[inside]), encoder_dir, work / f"ckpt-{f}")
        encoder = Encoder(encoder_dir, config.encoder)
        seen, unseen = ([train_texts[i] for i in rows] for rows in (inside, out))
        x_in, x_out = encoder.encode(encoder.tokenize(seen)), encoder.encode(encoder.tokenize(unseen))
        for j in range(len(slugs)):
            fitted = LogisticRegression(C=1.0, max_iter=2000).fit(x_in, y[inside, j])
            classifier[out, j] = fitted.predict_proba(x_out)[:, 1]
        labels = {slug: y[inside, j] for j, slug in enumerate(slugs)}
        _, fits = tfidf.fit_all(config.baseline, [documents[i] for i in inside], labels, config.seed,
                                {"out": [documents[i] for i in out]}, title_ngrams)  # fmt: skip
        for slug, _, scores in fits:
            baseline[out, slugs.index(slug)] = scores["out"]
        print(f"fold {f}: {time.perf_counter() - start:.0f} s", flush=True)
    shutil.rmtree(work, ignore_errors=True)

    columns = range(len(slugs))
    weight, by_weight = choose_weight([y[:, j] for j in columns], [classifier[:, j] for j in columns],
                                      [baseline[:, j] for j in columns], config.seed)  # fmt: skip

    def macro_f1(gold: list[list[str]], scores: dict) -> float | None:
        measured = single_label(gold, scores)
        return round(measured["macro_f1"], 4) if measured else None  # None: some issue not single-label

    out_of_fold = {w: macro_f1([r["labels"] for r in train],
                               {s: blend(classifier[:, j], baseline[:, j], w) for j, s in enumerate(slugs)})
                   for w in (0.0, 0.5, 1.0)}  # fmt: skip
    by_split = {"val": val, "test": test}
    deployed = read_scores(Path(config.paths.baseline) / SCORES, by_split)
    models = {}
    for slug in slugs:
        models.update(read_scores(Path(config.paths.classifiers) / slug / SCORES, by_split))
    on_val = files.read_json(Path(config.paths.thresholds))["baseline_weight"]
    on_test = {w: macro_f1([r["labels"] for r in test],
                           {s: blend(models[(s, "test")], deployed[(s, "test")], w) for s in slugs})
               for w in sorted({weight, on_val, 0.0, 0.5, 1.0})}  # fmt: skip
    print(json.dumps({
        "folds": args.folds, "weight (cross-fitted)": weight, "weight (val)": on_val,
        "out-of-fold mean average precision by weight": {f"{w:.1f}": round(s, 4) for w, s in by_weight.items()},
        "out-of-fold macro F1 (classifier 0, even blend 0.5, baseline 1)": out_of_fold,
        "test macro F1 by weight": on_test, "seconds": round(time.perf_counter() - start),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
