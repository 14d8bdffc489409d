"""Thresholds and the blend weight chosen on val, metrics measured on test, and the blend of
classifier and baseline scores: what the evaluate stage reports and what prediction applies."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)

from .selection import mean_average_precision, one_standard_error

PRECISION_LEVELS = [round(0.05 * i, 2) for i in range(10, 20)]  # 0.50 .. 0.95


def _curve(y: np.ndarray, scores: np.ndarray):
    precision, recall, thresholds = precision_recall_curve(y, scores)
    return precision[:-1], recall[:-1], thresholds  # drop sklearn's (precision 1, recall 0) end point


def threshold_max_f1(y: np.ndarray, scores: np.ndarray) -> float | None:
    if y.sum() == 0:
        return None
    precision, recall, thresholds = _curve(y, scores)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def threshold_for_precision(y: np.ndarray, scores: np.ndarray, target: float) -> float | None:
    """The lowest threshold whose precision on `y` reaches `target` (most recall at that precision)."""
    if y.sum() == 0:
        return None
    precision, _, thresholds = _curve(y, scores)
    reaching = np.flatnonzero(precision >= target)
    return float(thresholds[reaching[0]]) if len(reaching) else None


def choose_threshold(y: np.ndarray, scores: np.ndarray, policy: str, target: float) -> float | None:
    """None: the label cannot be predicted reliably and is never applied."""
    if policy == "target_precision":
        return threshold_for_precision(y, scores, target)
    return threshold_max_f1(y, scores)


def predicted(scores: np.ndarray, threshold: float | None) -> np.ndarray:
    return scores >= (math.inf if threshold is None else threshold)


def binary_metrics(y: np.ndarray, scores: np.ndarray, threshold: float | None) -> dict:
    """One label on one split. `average_precision` summarises the precision-recall curve (scikit-
    learn's average precision, not Keras' trapezoidal `val_pr_auc` that tuning reports)."""
    y, pred = np.asarray(y).astype(int), predicted(scores, threshold).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    _, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    both = 0 < y.sum() < len(y)
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": float(roc_auc_score(y, scores)) if both else None,
        "average_precision": float(average_precision_score(y, scores)) if both else None,
        "support": int(y.sum()),
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
    }


def averages(truth: np.ndarray, pred: np.ndarray) -> dict:
    """Micro and macro precision, recall and F1 of 0/1 matrices (issues x labels)."""
    result = {}
    for average in ("micro", "macro"):
        p, r, f, _ = precision_recall_fscore_support(truth, pred, average=average, zero_division=0)
        result[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    return result


def single_label(truth: list[list[str]], scores: dict[str, np.ndarray]) -> dict | None:
    """Argmax accuracy and macro F1, when every test issue has exactly one label."""
    if not truth or any(len(labels) != 1 for labels in truth):
        return None
    slugs = list(scores)
    guess = [slugs[i] for i in np.stack([scores[slug] for slug in slugs], axis=1).argmax(axis=1)]
    gold = [labels[0] for labels in truth]
    _, _, f1, _ = precision_recall_fscore_support(gold, guess, labels=slugs, average="macro", zero_division=0)
    return {"accuracy": float(accuracy_score(gold, guess)), "macro_f1": float(f1)}


def blend(classifier: np.ndarray, baseline: np.ndarray, weight: float) -> np.ndarray:
    """The scores prediction uses: (1 - weight) * classifier + weight * baseline (0: the classifier alone)."""
    return (1 - weight) * classifier + weight * baseline


BLEND_WEIGHTS = [round(0.1 * i, 1) for i in range(11)]  # 0 (the classifier alone) .. 1 (the baseline alone)
UNMEASURED_WEIGHT = 0.5  # when no label has a positive and a negative on val


def choose_weight(truth: list[np.ndarray], classifier: list[np.ndarray], baseline: list[np.ndarray], seed: int):
    """The blend weight of BLEND_WEIGHTS for held-out issues (one array per label in each list), and
    each weight's mean average precision there (it needs no threshold, so the weight is not fitted
    to the thresholds chosen on the same issues): of the weights within one standard error of the
    best, the nearest an even blend (averaging two models' scores cancels part of their errors)."""
    if mean_average_precision(truth, classifier) is None:  # no label has a positive and a negative
        return UNMEASURED_WEIGHT, {}
    blends = [[blend(c, b, weight) for c, b in zip(classifier, baseline)] for weight in BLEND_WEIGHTS]
    scores, close = one_standard_error(truth, blends, seed)
    return min((BLEND_WEIGHTS[k] for k in close), key=lambda w: abs(w - 0.5)), dict(zip(BLEND_WEIGHTS, scores))


def pr_curve_rows(y: np.ndarray, scores: np.ndarray) -> list[dict]:
    if y.sum() == 0:
        return []
    precision, recall, thresholds = _curve(y, scores)
    return [
        {"threshold": round(float(t), 6), "precision": round(float(p), 6), "recall": round(float(r), 6)}
        for p, r, t in zip(precision, recall, thresholds)
    ]
