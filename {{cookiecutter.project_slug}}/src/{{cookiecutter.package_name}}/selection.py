"""Choosing among options by how well their scores rank held-out issues: the mean average
precision over labels, and the one-standard-error rule (evaluate's blend weight, the baseline's
text rules). No threshold enters: a choice is not fitted to thresholds chosen on the same issues."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score

RESAMPLES, RESAMPLED_ISSUES = 100, 2000  # the one-standard-error rule's bootstrap (issues: at most)


def one_standard_error(truth: list[np.ndarray], candidates: list[list[np.ndarray]], seed: int):
    """Each candidate's mean average precision (its scores: one array per label, of the same issues,
    some label measurable), and the candidates that are as good as the best within the noise: their
    score at most one standard error below it (of the paired difference, over a seeded bootstrap of
    the issues). A few hundred issues rank noisily; the caller picks its steadiest among those."""
    measured, issues = _measurable(truth), len(truth[0])
    scores = [mean_average_precision(truth, candidate) for candidate in candidates]
    best = int(np.argmax(scores))
    drawn = min(issues, RESAMPLED_ISSUES)  # m of n: a resample's spread, scaled by sqrt(m / n)
    draws = np.random.default_rng(seed).integers(0, issues, (RESAMPLES, drawn))
    resampled = [np.mean([_average_precisions(truth[i][draws], c[i][draws]) for i in measured], axis=0)
                 for c in candidates]  # fmt: skip
    error = [float(np.std(resampled[best] - r)) * math.sqrt(drawn / issues) for r in resampled]
    return scores, [k for k in range(len(candidates)) if scores[best] - scores[k] <= error[k] + 1e-12]


def _measurable(truth: list[np.ndarray]) -> list[int]:
    return [i for i, y in enumerate(truth) if 0 < y.sum() < len(y)]


def mean_average_precision(truth: list[np.ndarray], scores: list[np.ndarray]) -> float | None:
    """The mean over labels (an array each) of average precision, of those with a positive and a
    negative (None: no such label): how well scores rank, whatever the thresholds."""
    measured = _measurable(truth)
    return float(np.mean([average_precision_score(truth[i], scores[i]) for i in measured])) if measured else None


def _average_precisions(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Average precision of each row (a resample), vectorised; tied scores are not grouped as
    scikit-learn groups them: an estimate of the spread, not a reported metric."""
    hits = np.take_along_axis(y, np.argsort(-scores, axis=1, kind="stable"), axis=1)
    precision = np.cumsum(hits, axis=1) / np.arange(1, y.shape[1] + 1)
    return (precision * hits).sum(axis=1) / np.maximum(hits.sum(axis=1), 1)
