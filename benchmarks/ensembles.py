"""Would several fine-tuned encoders, averaged, deploy a better model? An experiment for issue 17.

    .venv/bin/python benchmarks/quality.py --seeds 42 --keep          # prints where the projects are
    .venv/bin/python benchmarks/ensembles.py seeds /tmp/quality-XXXX/seed-42/facebook-react/bench
    .venv/bin/python benchmarks/ensembles.py folds /tmp/quality-XXXX/seed-42/facebook-react/bench

In a project `quality.py` kept (its pipeline run), each of `--members` encoders is fine-tuned with
the project's config, and each label gets a logistic-regression head (the `logistic` head:
class-weighted, c 1) on each encoder's vectors; the members' test scores are averaged.

- `seeds`: the members differ by seed only (seed, seed + 1, ...; the first is the project's own
  encoder), all on the train split; the blend weight is chosen on val, as evaluate does.
- `folds`: k-fold bagging on every labelled training issue (train and val together): the
  masked-LM phase once, then each member's supervised phase without one fold; the members' scores
  of their held-out folds (out of fold: every training issue once) choose the blend weight, and
  the baseline (the project's text rules) is fitted on all of them. No validation split is spent.

Prints test macro F1 (single label) of each member, of the ensemble, and of the deployed blend at
the chosen weight, against one encoder's deployed blend (`seeds`: the first member's heads at
val's weight, the project's own with the `logistic` head; `folds`: the project's own), and the
time the members took.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from kept import open_kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["seeds", "folds"])
    parser.add_argument("project", type=Path, help="a project quality.py kept (its folder `bench`)")
    parser.add_argument("--members", type=int, default=3, help="encoders (folds: k)")
    args = parser.parse_args()
    project = open_kept(args.project)
    from bench import baseline as tfidf
    from bench import vectors
    from bench.classifier import class_weights
    from bench.dataset import SCORES, numbers, read_scores, targets, texts
    from bench.encoder import Encoder
    from bench.evaluate import blend, choose_weight, single_label
    from bench.head import logistic
    from bench.language_model import finetune

    config, train, val, test, slugs = project.config, project.train, project.val, project.test, project.slugs
    lm, work, start = config.language_model, Path(tempfile.mkdtemp(prefix="ensembles-")), time.perf_counter()

    def labels_of(rows: list[dict]) -> np.ndarray:
        return np.stack([targets(rows, slug) for slug in slugs], axis=1)

    def encoder_vectors(member_config, fit_rows: list[dict], name: str) -> dict[int, np.ndarray]:
        """A member fine-tuned on `fit_rows`' labels: its vector of each labelled issue, by number."""
        folder = work / name
        folder.mkdir()
        labelled = (texts(fit_rows), labels_of(fit_rows))
        finetune(member_config, project.unsupervised, labelled, folder, work / f"{name}-ckpt")
        encoder = Encoder(folder, config.encoder)
        rows = train + val + test
        return dict(zip(numbers(rows), encoder.encode(encoder.tokenize(texts(rows)))))

    def heads(by_number: dict, fit_rows: list[dict], scored: dict[str, list[dict]]) -> dict[str, np.ndarray]:
        """Each label's logistic head fitted on `fit_rows`: its scores of each of `scored`'s splits."""
        x, y = np.stack([by_number[n] for n in numbers(fit_rows)]), labels_of(fit_rows)
        out = {split: np.zeros((len(rows), len(slugs))) for split, rows in scored.items()}
        for j in range(len(slugs)):
            fitted = logistic(x, y[:, j], 1.0, class_weights(y[:, j], "balanced"))  # the pipeline's own head
            for split, rows in scored.items():
                out[split][:, j] = fitted.scores(np.stack([by_number[n] for n in numbers(rows)])).reshape(-1)
        return out

    def macro_f1(rows: list[dict], scores: np.ndarray) -> float:
        return round(single_label([r["labels"] for r in rows], dict(zip(slugs, scores.T)))["macro_f1"], 4)

    def weight_on(rows: list[dict], classifier: np.ndarray, baseline: np.ndarray) -> float:
        y = labels_of(rows)
        columns = range(len(slugs))
        return choose_weight([y[:, j] for j in columns], [classifier[:, j] for j in columns],
                             [baseline[:, j] for j in columns], config.seed)[0]  # fmt: skip

    if args.mode == "seeds":
        own, _ = vectors.read(Path(config.paths.encoder), numbers(train + val + test), config.encoder)
        members = [dict(zip(numbers(train + val + test), own))]
        for m in range(1, args.members):
            members.append(encoder_vectors(dataclasses.replace(config, seed=config.seed + m), train, f"seed-{m}"))
            print(f"member {m}: {time.perf_counter() - start:.0f} s", flush=True)
        scored = [heads(member, train, {"val": val, "test": test}) for member in members]
        by_split = {"val": val, "test": test}
        saved = read_scores(Path(config.paths.baseline) / SCORES, by_split)
        baseline = {split: np.stack([saved[(slug, split)] for slug in slugs], axis=1) for split in by_split}
        ensemble = {split: np.mean([s[split] for s in scored], axis=0) for split in by_split}
        single_weight = weight_on(val, scored[0]["val"], baseline["val"])
        weight = weight_on(val, ensemble["val"], baseline["val"])
        own_deployed = macro_f1(test, blend(scored[0]["test"], baseline["test"], single_weight))
    else:
        pool = train + val
        fold = tfidf.folds([row["labels"] for row in pool], args.members, config.seed)
        masked = work / "masked-lm"  # the masked-LM phase reads no label: once for every member
        masked.mkdir()
        masked_only = dataclasses.replace(config, language_model=dataclasses.replace(
            lm, supervised=dataclasses.replace(lm.supervised, enabled=False)))  # fmt: skip
        finetune(masked_only, project.unsupervised, ([], np.zeros((0, 0))), masked, work / "masked-lm-ckpt")
        supervised_only = dataclasses.replace(config, language_model=dataclasses.replace(
            lm, base=str(masked), finetune=dataclasses.replace(lm.finetune, enabled=False)))  # fmt: skip

        def baseline_scores(fit_rows: list[dict], rows: list[dict]) -> np.ndarray:
            y = labels_of(fit_rows)
            _, fits = tfidf.fit_all(config.baseline, project.documents(fit_rows),
                                    {s: y[:, j] for j, s in enumerate(slugs)}, config.seed,
                                    {"out": project.documents(rows)}, project.title_ngrams)  # fmt: skip
            out = np.zeros((len(rows), len(slugs)))
            for slug, _, scores in fits:
                out[:, slugs.index(slug)] = scores["out"]
            return out

        out_of_fold, baseline_oof, scored = np.zeros((len(pool), len(slugs))), np.zeros((len(pool), len(slugs))), []
        for f in range(args.members):
            inside = [row for row, k in zip(pool, fold) if k != f]
            held = [row for row, k in zip(pool, fold) if k == f]
            member = encoder_vectors(dataclasses.replace(supervised_only, seed=config.seed + f), inside, f"fold-{f}")
            scores = heads(member, inside, {"held": held, "test": test})
            out_of_fold[fold == f], baseline_oof[fold == f] = scores["held"], baseline_scores(inside, held)
            scored.append(scores)
            print(f"fold {f}: {time.perf_counter() - start:.0f} s", flush=True)
        baseline = {"test": baseline_scores(pool, test)}
        ensemble = {"test": np.mean([s["test"] for s in scored], axis=0)}
        weight = weight_on(pool, out_of_fold, baseline_oof)
        thresholds = json.loads(Path(config.paths.thresholds).read_text())
        own_deployed = json.loads(Path(config.paths.metrics).read_text())[thresholds["model"]]["single_label"]
        own_deployed = round(own_deployed["macro_f1"], 4)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({
        "mode": args.mode, "members": args.members,
        "members' test macro F1": [macro_f1(test, s["test"]) for s in scored],
        "ensemble": macro_f1(test, ensemble["test"]), "weight": weight,
        "deployed (ensemble blend)": macro_f1(test, blend(ensemble["test"], baseline["test"], weight)),
        "deployed (one encoder)": own_deployed, "seconds": round(time.perf_counter() - start),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
