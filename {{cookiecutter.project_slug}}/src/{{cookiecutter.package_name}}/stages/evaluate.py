"""Stage evaluate: thresholds (and the blend weight, when `auto`) chosen on val, metrics on test,
for the classifiers, the baseline and their blend -> the deployed thresholds (paths.thresholds),
test predictions, plots, report and metrics. Scores come from each model's score file, so
evaluating never re-runs a model."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .. import evaluate as ev
from ..core import files
from ..core.command import stage_main
from ..core.config import Config
from ..core.errors import PipelineError
from ..dataset import SCORES, TEXT_RULES, Processed, read_scores, targets
from ..report import render


def _read(path: Path, slugs: list[str], by_split: dict[str, list[dict]]) -> dict[tuple[str, str], np.ndarray]:
    """A score file, with a score for each val and test issue of each of `slugs`, or a clear error."""
    scored = read_scores(path, by_split)
    for slug in slugs:
        for split, rows in by_split.items():
            missing = int(np.isnan(scored.setdefault((slug, split), np.full(len(rows), np.nan))).sum())
            if missing:
                raise PipelineError(
                    f"{path}: expected a score for each of the {len(rows)} {split} issues of label {slug!r}; "
                    f"{missing} missing (re-run the stage that wrote it: dvc repro)"
                )
    return scored


def _model_metrics(scored: dict, slugs: list[str], val: list[dict], test: list[dict], policy: str, target: float):
    per_label = {}
    for slug in slugs:
        threshold = ev.choose_threshold(targets(val, slug), scored[(slug, "val")], policy, target)
        per_label[slug] = {
            **ev.binary_metrics(targets(test, slug), scored[(slug, "test")], threshold),
            "threshold": threshold,
        }
    test_scores = {slug: scored[(slug, "test")] for slug in slugs}
    truth = np.stack([targets(test, slug) for slug in slugs], axis=1)
    chosen = np.stack([ev.predicted(test_scores[s], per_label[s]["threshold"]) for s in slugs], axis=1)
    metrics = {"labels": per_label, **ev.averages(truth, chosen)}
    measured = [m["average_precision"] for m in per_label.values() if m["average_precision"] is not None]
    metrics["macro"]["average_precision"] = float(np.mean(measured)) if measured else None  # a gate can use it
    single = ev.single_label([row["labels"] for row in test], test_scores)
    if single:
        metrics["single_label"] = single
    return metrics


def run(config: Config) -> str:
    data = Processed(config.paths.processed)
    slugs = data.labels()
    val, test = data.split("val"), data.split("test")
    if not test:
        raise PipelineError(
            f"{config.paths.processed}: the test split has no issues, so nothing can be measured; expected some "
            "(a dump's `split` column with test rows, import.test_file, or no split column: preprocess.test_fraction)"
        )
    scored_splits = {"val": val, "test": test}
    classifier_scores: dict = {}
    for slug in slugs:
        classifier_scores.update(_read(Path(config.paths.classifiers) / slug / SCORES, [slug], scored_splits))
    baseline_scores = _read(Path(config.paths.baseline) / SCORES, slugs, scored_splits)
    sources = {"classifier": classifier_scores, "baseline": baseline_scores}
    weight, by_weight = config.evaluate.baseline_weight, {}
    if weight == "auto":  # the weight that ranks val best, of 0 (the classifier alone) .. 1 (the baseline alone)
        weight, by_weight = ev.choose_weight(
            [targets(val, slug) for slug in slugs],
            *([scored[(slug, "val")] for slug in slugs] for scored in (classifier_scores, baseline_scores)),
            config.seed,
        )
    if config.evaluate.baseline_weight:  # the blend is what prediction uses, even at a chosen 0 or 1
        sources["blend"] = {key: ev.blend(s, baseline_scores[key], weight) for key, s in classifier_scores.items()}
    deployed = "blend" if config.evaluate.baseline_weight else "classifier"
    policy, target = config.evaluate.threshold_policy, config.evaluate.target_precision
    metrics = {model: _model_metrics(scored, slugs, val, test, policy, target) for model, scored in sources.items()}

    # what prediction uses: the deployed model's thresholds, by policy and for each precision level
    policy_name = policy if policy == "max_f1" else f"target_precision {target}"
    thresholds = {"policy": policy_name, "model": deployed, "baseline_weight": weight, "labels": {}}
    if by_weight:  # how each weight ranked val: why this one
        thresholds["weights_on_val"] = {f"{w:.1f}": round(score, 6) for w, score in by_weight.items()}
    for slug in slugs:
        y_val, s_val = targets(val, slug), sources[deployed][(slug, "val")]
        thresholds["labels"][slug] = {
            "name": config.labels[slug].name,
            "threshold": metrics[deployed]["labels"][slug]["threshold"],
            "by_precision": {f"{p:.2f}": ev.threshold_for_precision(y_val, s_val, p) for p in ev.PRECISION_LEVELS},
        }
    test_scores = {slug: sources[deployed][(slug, "test")] for slug in slugs}
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
    paths = config.paths
    curves = Path(paths.plots) / "precision_recall"
    with files.together(paths.thresholds, paths.predictions, curves, paths.report, paths.metrics) as staged:
        files.write_json(staged[Path(paths.thresholds)], thresholds)  # a set: never one run's thresholds
        files.write_jsonl(staged[Path(paths.predictions)], predictions)  # with another's metrics
        staged[curves].mkdir()
        for slug in slugs:
            files.write_json(staged[curves] / f"{slug}.json", ev.pr_curve_rows(targets(test, slug), test_scores[slug]))
        text = Path(paths.baseline) / TEXT_RULES  # the baseline's text rules and how each option scored
        tried = files.read_json(text)["cross_validated"] if text.is_file() else []
        files.write_text(staged[Path(paths.report)], render(metrics, data.summary, thresholds, tried))
        files.write_json(staged[Path(paths.metrics)], metrics)
    scored = ", ".join(f"{model} {metrics[model]['macro']['f1']:.3f}" for model in metrics)
    return f"macro F1 on test: {scored}; report: {config.paths.report}"


if __name__ == "__main__":
    sys.exit(stage_main("evaluate", run, __doc__))
