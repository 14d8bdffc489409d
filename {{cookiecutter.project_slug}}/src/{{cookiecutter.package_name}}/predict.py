"""The one prediction path: new issues -> the score of every label and the labels applied, at the
thresholds evaluate chose or at a chosen precision. Text is normalised as preprocess normalised
it, each issue is encoded once for all labels, and scores are blended as evaluate blended them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import baseline
from .core import files
from .core.config import Config
from .core.errors import PipelineError
from .evaluate import blend
from .text import normalise


class PredictError(PipelineError):
    """Prediction cannot run; the message says what is missing."""


def deployed(config: Config) -> dict:
    """What evaluate chose to deploy (paths.thresholds): the model, its blend weight and each label's thresholds."""
    path = Path(config.paths.thresholds)
    if not path.is_file():
        raise PredictError(f"{path} not found; expected trained models: run `dvc repro` first")
    return files.read_json(path)


def threshold_key(saved: dict, precision: float | None) -> str | None:
    """The stored precision level ("0.80") of `precision`; checked before any model loads."""
    if precision is None:
        return None
    levels = list(next(iter(saved["labels"].values()))["by_precision"]) if saved["labels"] else []
    if f"{precision:.2f}" not in levels:
        raise PredictError(f"--precision: expected one of {', '.join(levels)}; found {precision}")
    return f"{precision:.2f}"


class Predictor:
    """The trained models (encoder, heads, baselines, thresholds), loaded once."""

    def __init__(self, config: Config, saved: dict | None = None):
        from .classifier import Head
        from .encoder import Encoder

        saved = saved or deployed(config)
        self.config, self.thresholds, self.weight = config, saved["labels"], saved["baseline_weight"]
        self.encoder = Encoder(config.paths.encoder, config.encoder)
        self.heads = {slug: Head(Path(config.paths.classifiers) / slug) for slug in self.thresholds}
        for slug, head in self.heads.items():
            trained = {key: head.meta.get(key) for key in self.encoder.layout()}
            if head.model is not None and trained != self.encoder.layout():
                raise PredictError(
                    f"{config.paths.classifiers}/{slug}: trained with encoder {trained}; config.yaml's `encoder` "
                    f"says {self.encoder.layout()}: run `dvc repro` to retrain"
                )
        self.baselines = {
            slug: baseline.load(Path(config.paths.baseline) / f"{slug}.pkl") for slug in self.thresholds if self.weight
        }

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        """slug -> the deployed model's score of each (normalised) text."""
        tokens = self.encoder.tokenize(texts)
        vectors = self.encoder.encode(tokens) if self.config.encoder.frozen else None  # once for all labels
        scores = {}
        for slug, head in self.heads.items():
            scores[slug] = head.scores(tokens, vectors)
            if self.weight:
                scores[slug] = blend(scores[slug], baseline.scores(self.baselines[slug], texts), self.weight)
        return scores

    def predict(self, issues: list[dict], key: str | None = None) -> list[dict]:
        """Per issue: its number, every label's score (by GitHub name) and the labels applied, at the
        deployed thresholds or at precision level `key` (see threshold_key)."""
        text = self.config.preprocess.text
        texts = [normalise(issue.get("title", ""), issue.get("body", ""), text) for issue in issues]
        results = [{"number": issue.get("number"), "scores": {}, "labels": []} for issue in issues]
        if not issues:
            return results
        for slug, scores in self.scores(texts).items():
            info = self.thresholds[slug]
            threshold = info["threshold"] if key is None else info["by_precision"][key]
            for result, score in zip(results, scores):
                result["scores"][info["name"]] = round(float(score), 4)
                if threshold is not None and score >= threshold:
                    result["labels"].append(info["name"])
        return results


def predict(config: Config, issues: list[dict], precision: float | None = None) -> list[dict]:
    saved = deployed(config)
    key = threshold_key(saved, precision)  # a bad level is answered before TensorFlow loads
    return Predictor(config, saved).predict(issues, key)
