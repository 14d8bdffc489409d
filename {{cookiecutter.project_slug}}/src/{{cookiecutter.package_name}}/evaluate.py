"""Thresholds chosen on val, metrics measured on test, for the classifiers and the baseline.

Scores are read from each model's `scores.jsonl` (label, split, number, score), written by the
training stages, so evaluating never re-runs a model.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

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
    pred = predicted(scores, threshold)
    tp, fp, fn = int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum()), int((~pred & (y == 1)).sum())
    both = 0 < y.sum() < len(y)
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        "roc_auc": float(roc_auc_score(y, scores)) if both else None,
        "pr_auc": float(average_precision_score(y, scores)) if both else None,
        "support": int(y.sum()),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def averages(per_label: dict[str, dict]) -> dict:
    tp, fp, fn = (sum(m[k] for m in per_label.values()) for k in ("tp", "fp", "fn"))
    mean = lambda key: float(np.mean([m[key] for m in per_label.values()]))  # noqa: E731
    return {
        "micro": {
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        },
        "macro": {key: mean(key) for key in ("precision", "recall", "f1")},
    }


def single_label(truth: list[list[str]], scores: dict[str, np.ndarray]) -> dict | None:
    """Argmax accuracy and macro F1, when every test issue has exactly one label."""
    if not truth or any(len(labels) != 1 for labels in truth):
        return None
    slugs = list(scores)
    matrix = np.stack([scores[slug] for slug in slugs], axis=1)
    guess = [slugs[i] for i in matrix.argmax(axis=1)]
    gold = [labels[0] for labels in truth]
    f1s = []
    for slug in slugs:
        tp = sum(g == p == slug for g, p in zip(gold, guess))
        fp = sum(p == slug != g for g, p in zip(gold, guess))
        fn = sum(g == slug != p for g, p in zip(gold, guess))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return {
        "accuracy": sum(g == p for g, p in zip(gold, guess)) / len(gold),
        "macro_f1": float(np.mean(f1s)),
    }


def pr_curve_rows(y: np.ndarray, scores: np.ndarray) -> list[dict]:
    if y.sum() == 0:
        return []
    precision, recall, thresholds = _curve(y, scores)
    return [
        {"threshold": round(float(t), 6), "precision": round(float(p), 6), "recall": round(float(r), 6)}
        for p, r, t in zip(precision, recall, thresholds)
    ]
