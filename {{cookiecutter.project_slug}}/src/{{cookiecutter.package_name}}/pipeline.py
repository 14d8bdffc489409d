"""One function per DVC stage: read the stage's inputs, call the modules that do the work,
write its outputs atomically. TensorFlow is imported only by the stages that train, so the
others start in a second."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from . import files
from .config import Config
from .errors import PipelineError
from .issues import load_issues
from .preprocess import preprocess as preprocess_rows

SPLITS = ("train", "val", "test")


def import_issues(config: Config) -> str:
    records = load_issues(config.import_)
    files.write_jsonl(config.paths.raw, records)
    return f"imported {len(records)} issues from {config.import_.source} into {config.paths.raw}"


def preprocess(config: Config) -> str:
    rows, summary = preprocess_rows(config, files.read_jsonl(config.paths.raw))
    with files.atomic_dir(config.paths.processed) as out:
        files.write_jsonl(out / "issues.jsonl", rows)
        files.write_json(out / "summary.json", summary)
    return f"preprocessed {len(rows)} issues: {summary['splits']}"


def _processed(config: Config) -> tuple[list[dict], dict]:
    processed = Path(config.paths.processed)
    return files.read_jsonl(processed / "issues.jsonl"), files.read_json(processed / "summary.json")


def _split(rows: list[dict], split: str) -> list[dict]:
    return [row for row in rows if row["split"] == split]


def _targets(rows: list[dict], slug: str) -> np.ndarray:
    return np.array([slug in row["labels"] for row in rows], dtype="float32")


def finetune_lm(config: Config) -> str:
    from .classifier import Encoder
    from .language_model import finetune

    rows, summary = _processed(config)
    texts = [row["text"] for row in rows if row["split"] in ("train", "unlabelled")]  # never val/test
    train = _split(rows, "train")
    slugs = [slug for slug, info in summary["labels"].items() if not info["dropped"]]
    targets = np.stack([_targets(train, slug) for slug in slugs], axis=1) if slugs else np.zeros((len(train), 0))
    params = config.classifier.params
    with files.atomic_dir(config.paths.encoder) as out:
        phases = finetune(config, texts, ([row["text"] for row in train], targets), out)
        if not params.train_encoder:  # the heads' inputs, encoded once for all labels
            labelled = [row for row in rows if row["split"] in SPLITS]
            encoder = Encoder(out, params.sequence_length, params.pooling, params.truncation)
            encoder.save_vectors([row["number"] for row in labelled], [row["text"] for row in labelled])
    shutil.rmtree(Path(config.paths.checkpoints) / "finetune_lm", ignore_errors=True)  # the encoder is in place
    with files.atomic_dir(Path(config.paths.training_logs) / "finetune_lm") as logs:
        files.write_json(logs / "throughput.json", {name: state.throughput() for name, state in phases.items()})
    trained = ", ".join(f"{name} loss {state.history['loss'][-1]:.4f}" for name, state in phases.items())
    return f"encoder from {config.language_model.base!r} saved to {config.paths.encoder} ({trained or 'not trained'})"


def _score_rows(slug: str, rows_by_split: dict[str, list[dict]], scores: dict[str, np.ndarray]) -> list[dict]:
    return [
        {"label": slug, "split": split, "number": row["number"], "score": round(float(score), 6)}
        for split in scores
        for row, score in zip(rows_by_split[split], scores[split])
    ]


def train(config: Config, slug: str) -> str:
    if slug not in config.labels:  # checked before TensorFlow loads: a one-line answer at once
        raise PipelineError(f"--label: expected one of {', '.join(config.labels)}; found {slug!r}")
    from .training import train_label

    rows, summary = _processed(config)
    by_split = {split: _split(rows, split) for split in SPLITS}
    out_dir = Path(config.paths.classifiers) / slug
    logs_dir = Path(config.paths.training_logs) / slug
    with files.atomic_dir(out_dir) as out, files.atomic_dir(logs_dir) as logs:
        if summary["labels"][slug]["dropped"]:
            files.write_json(out / "meta.json", {"trained": False, "reason": "dropped by preprocess"})
            files.write_json(logs / "metrics.json", {"trained": False})
            files.write_jsonl(out / "scores.jsonl", [])
            return f"{slug}: dropped by preprocess (too few training issues), no model trained"
        texts = {split: [row["text"] for row in by_split[split]] for split in SPLITS}
        numbers = {split: [row["number"] for row in by_split[split]] for split in SPLITS}
        targets = {split: _targets(by_split[split], slug) for split in SPLITS}
        scores = train_label(config, slug, texts, numbers, targets, out, logs)
        files.write_jsonl(out / "scores.jsonl", _score_rows(slug, by_split, scores))
    shutil.rmtree(Path(config.paths.checkpoints) / "train" / slug, ignore_errors=True)  # outputs are in place
    return f"{slug}: classifier saved to {out_dir}"


def baseline(config: Config) -> str:
    from . import baseline as tfidf

    rows, summary = _processed(config)
    by_split = {split: _split(rows, split) for split in SPLITS}
    train_texts = [row["text"] for row in by_split["train"]]
    lines = []
    with files.atomic_dir(config.paths.baseline) as out:
        for slug, info in summary["labels"].items():
            if info["dropped"]:
                continue
            model = tfidf.fit(config.baseline, train_texts, _targets(by_split["train"], slug), config.seed)
            tfidf.save(model, out / f"{slug}.pkl")
            scores = {split: tfidf.scores(model, [row["text"] for row in by_split[split]]) for split in ("val", "test")}
            lines += _score_rows(slug, by_split, scores)
        files.write_jsonl(out / "scores.jsonl", lines)
    return f"baseline models and scores saved to {config.paths.baseline}"


def _read_scores(path: Path) -> dict[tuple[str, str, int], float]:
    return {(s["label"], s["split"], s["number"]): s["score"] for s in files.read_jsonl(path)}


def _scores(scored: dict, slug: str, split: str, split_rows: list[dict]) -> np.ndarray:
    return np.array([scored[(slug, split, row["number"])] for row in split_rows])


def evaluate(config: Config) -> str:
    from . import evaluate as ev
    from .report import render

    rows, summary = _processed(config)
    slugs = [slug for slug, info in summary["labels"].items() if not info["dropped"]]
    val, test = _split(rows, "val"), _split(rows, "test")
    classifier_scores: dict = {}
    for slug in slugs:
        classifier_scores.update(_read_scores(Path(config.paths.classifiers) / slug / "scores.jsonl"))
    baseline_scores = _read_scores(Path(config.paths.baseline) / "scores.jsonl")
    sources = {"classifier": classifier_scores, "baseline": baseline_scores}
    weight = config.evaluate.baseline_weight
    if weight:  # the blend is what prediction uses
        sources["blend"] = {
            key: (1 - weight) * s + weight * baseline_scores[key] for key, s in classifier_scores.items()
        }
    deployed = "blend" if weight else "classifier"
    policy, target = config.evaluate.threshold_policy, config.evaluate.target_precision

    metrics: dict = {}
    for model, scored in sources.items():
        per_label = {}
        for slug in slugs:
            y_val, s_val = _targets(val, slug), _scores(scored, slug, "val", val)
            threshold = ev.choose_threshold(y_val, s_val, policy, target)
            test_metrics = ev.binary_metrics(_targets(test, slug), _scores(scored, slug, "test", test), threshold)
            per_label[slug] = {**test_metrics, "threshold": threshold}
        metrics[model] = {"labels": per_label, **ev.averages(per_label)}
        single = ev.single_label([row["labels"] for row in test], {s: _scores(scored, s, "test", test) for s in slugs})
        if single:
            metrics[model]["single_label"] = single

    # what prediction uses: the deployed model's thresholds, by policy and for each precision level
    policy_name = policy if policy == "max_f1" else f"target_precision {target}"
    thresholds = {"policy": policy_name, "model": deployed, "baseline_weight": weight, "labels": {}}
    for slug in slugs:
        y_val, s_val = _targets(val, slug), _scores(sources[deployed], slug, "val", val)
        thresholds["labels"][slug] = {
            "name": config.labels[slug].name,
            "threshold": metrics[deployed]["labels"][slug]["threshold"],
            "by_precision": {f"{p:.2f}": ev.threshold_for_precision(y_val, s_val, p) for p in ev.PRECISION_LEVELS},
        }
    test_scores = {slug: _scores(sources[deployed], slug, "test", test) for slug in slugs}
    chosen = {slug: ev.predicted(test_scores[slug], thresholds["labels"][slug]["threshold"]) for slug in slugs}
    predictions = [
        {
            "number": row["number"],
            "labels": row["labels"],
            "scores": {slug: float(test_scores[slug][i]) for slug in slugs},
            "predicted": [slug for slug in slugs if chosen[slug][i]],
        }
        for i, row in enumerate(test)
    ]
    files.write_json(config.paths.thresholds, thresholds)
    files.write_jsonl(config.paths.predictions, predictions)
    with files.atomic_dir(Path(config.paths.plots) / "precision_recall") as out:
        for slug in slugs:
            files.write_json(out / f"{slug}.json", ev.pr_curve_rows(_targets(test, slug), test_scores[slug]))
    files.write_text(config.paths.report, render(metrics, summary, thresholds))
    files.write_json(config.paths.metrics, metrics)
    scored = ", ".join(f"{model} {metrics[model]['macro']['f1']:.3f}" for model in metrics)
    return f"macro F1 on test: {scored}; report: {config.paths.report}"
