"""Label new issues with the trained classifiers, at the validation-chosen thresholds or at a
chosen precision."""

from __future__ import annotations

from pathlib import Path

from . import baseline, files
from .config import Config
from .errors import PipelineError
from .text import normalise


class PredictError(PipelineError):
    """Prediction cannot run; the message says what is missing."""


def predict(config: Config, issues: list[dict], target_precision: float | None = None) -> list[dict]:
    from .classifier import Encoder, Predictor

    thresholds_path = Path(config.paths.thresholds)
    if not thresholds_path.is_file():
        raise PredictError(f"{thresholds_path} not found; expected trained models: run `dvc repro` first")
    saved = files.read_json(thresholds_path)
    thresholds, weight = saved["labels"], saved["baseline_weight"]
    if target_precision is not None:
        key = f"{target_precision:.2f}"
        levels = next(iter(thresholds.values()))["by_precision"] if thresholds else {}
        if key not in levels:
            raise PredictError(f"--precision: expected one of {', '.join(levels)}; found {target_precision}")
    texts = [normalise(issue.get("title", ""), issue.get("body", ""), config.preprocess.text) for issue in issues]
    results = [{"number": issue.get("number"), "scores": {}, "labels": []} for issue in issues]
    if not issues:
        return results
    encoders: dict[tuple, Encoder] = {}
    for slug, info in thresholds.items():
        directory = Path(config.paths.classifiers) / slug
        meta = files.read_json(directory / "meta.json")
        key = (meta["sequence_length"], meta["pooling"], meta["truncation"])
        if key not in encoders:
            encoders[key] = Encoder(config.paths.encoder, *key)
        encoder = encoders[key]
        scores = Predictor(directory, encoder).scores(encoder.tokenize(texts))
        if weight:  # blended as evaluate blended them
            model = baseline.load(Path(config.paths.baseline) / f"{slug}.pkl")
            scores = (1 - weight) * scores + weight * baseline.scores(model, texts)
        threshold = info["threshold"] if target_precision is None else info["by_precision"][f"{target_precision:.2f}"]
        for result, score in zip(results, scores):
            result["scores"][info["name"]] = round(float(score), 4)
            if threshold is not None and score >= threshold:
                result["labels"].append(info["name"])
    return results
