"""Thresholds and metrics (evaluate.py), checked against values worked out by hand."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.core.files import write_jsonl
from {{ cookiecutter.package_name }}.dataset import read_scores
from {{ cookiecutter.package_name }}.evaluate import (
    averages,
    binary_metrics,
    blend,
    choose_threshold,
    choose_weight,
    single_label,
    threshold_for_precision,
    threshold_max_f1,
)

# Thresholds (ascending) and what each gives on this example:
#   0.10: precision 2/4, recall 1, F1 0.667
#   0.35: precision 2/3, recall 1, F1 0.8   <- best F1
#   0.40: precision 1/2, recall 0.5, F1 0.5
#   0.80: precision 1,   recall 0.5, F1 0.667
Y = np.array([0, 0, 1, 1])
SCORES = np.array([0.1, 0.4, 0.35, 0.8])


def test_threshold_max_f1():
    assert threshold_max_f1(Y, SCORES) == pytest.approx(0.35)


def test_threshold_max_f1_without_positives():
    assert threshold_max_f1(np.zeros(4), SCORES) is None


@pytest.mark.parametrize(("target", "expected"), [(0.5, 0.1), (0.6, 0.35), (2 / 3, 0.35), (0.9, 0.8), (1.0, 0.8)])
def test_threshold_for_precision_is_the_lowest_reaching_it(target, expected):
    assert threshold_for_precision(Y, SCORES, target) == pytest.approx(expected)


def test_threshold_for_precision_unreachable():
    # The highest score is a negative: precision never exceeds 1/2.
    y, scores = np.array([1, 0, 0]), np.array([0.5, 0.2, 0.9])
    assert threshold_for_precision(y, scores, 0.6) is None


def test_threshold_for_precision_without_positives():
    assert threshold_for_precision(np.zeros(4), SCORES, 0.5) is None


def test_choose_threshold_policies():
    assert choose_threshold(Y, SCORES, "max_f1", 0.9) == pytest.approx(0.35)
    assert choose_threshold(Y, SCORES, "target_precision", 0.9) == pytest.approx(0.8)


def test_binary_metrics_hand_computed():
    y = np.array([1, 1, 0, 0, 1])
    scores = np.array([0.9, 0.4, 0.6, 0.2, 0.7])
    m = binary_metrics(y, scores, 0.5)  # predicted: 1 0 1 0 1 -> tp 2, fp 1, fn 1
    assert (m["tp"], m["fp"], m["fn"], m["support"]) == (2, 1, 1, 3)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    # 5 of the 6 (positive, negative) pairs are ordered correctly.
    assert m["roc_auc"] == pytest.approx(5 / 6)
    # Ranked: P P N P N -> precision 1, 1, 3/4 at each positive.
    assert m["average_precision"] == pytest.approx((1 + 1 + 3 / 4) / 3)


def test_binary_metrics_threshold_inclusive():
    m = binary_metrics(np.array([1, 0]), np.array([0.5, 0.4]), 0.5)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 0, 0)


def test_binary_metrics_without_threshold_predicts_nothing():
    m = binary_metrics(np.array([1, 0, 1]), np.array([0.9, 0.1, 0.8]), None)
    assert (m["tp"], m["fp"], m["fn"]) == (0, 0, 2)
    assert m["precision"] == m["recall"] == m["f1"] == 0.0
    assert m["roc_auc"] == pytest.approx(1.0)


def test_binary_metrics_single_class_has_no_auc():
    m = binary_metrics(np.zeros(3), np.array([0.9, 0.1, 0.8]), 0.5)
    assert m["roc_auc"] is None and m["average_precision"] is None
    assert (m["tp"], m["fp"], m["fn"], m["support"]) == (0, 2, 0, 0)
    assert m["precision"] == m["recall"] == m["f1"] == 0.0


def test_averages_micro_and_macro():
    # label a: tp 2, fp 1, fn 1 (precision, recall, F1 2/3); label b: tp 0, fp 0, fn 2 (all 0)
    truth = np.array([[1, 1], [1, 1], [1, 0], [0, 0]])
    pred = np.array([[1, 0], [1, 0], [0, 0], [1, 0]])
    result = averages(truth, pred)
    # micro: tp 2, fp 1, fn 3
    assert result["micro"]["precision"] == pytest.approx(2 / 3)
    assert result["micro"]["recall"] == pytest.approx(2 / 5)
    assert result["micro"]["f1"] == pytest.approx(4 / 8)
    # macro: the mean of the labels' values
    for key in ("precision", "recall", "f1"):
        assert result["macro"][key] == pytest.approx(1 / 3)


def test_blend_weights_the_two_models():
    classifier, baseline = np.array([0.2, 1.0]), np.array([0.6, 0.0])
    np.testing.assert_allclose(blend(classifier, baseline, 0.25), [0.3, 0.75])
    np.testing.assert_array_equal(blend(classifier, baseline, 0.0), classifier)


def test_single_label_accuracy_and_macro_f1():
    truth = [["a"], ["b"], ["a"], ["b"]]
    scores = {"a": np.array([0.9, 0.2, 0.3, 0.1]), "b": np.array([0.1, 0.8, 0.6, 0.7])}
    # argmax: a b b b -> 3 of 4 right; F1 of a: 2/3 (tp 1, fn 1), of b: 4/5 (tp 2, fp 1)
    result = single_label(truth, scores)
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)


@pytest.mark.parametrize("truth", [[], [["a"], []], [["a"], ["a", "b"]]], ids=["empty", "no-label", "two-labels"])
def test_single_label_only_when_every_issue_has_one_label(truth):
    scores = {"a": np.array([0.9, 0.2]), "b": np.array([0.1, 0.8])}
    assert single_label(truth, scores) is None


def test_score_files_read_into_arrays_in_split_order(tmp_path):
    """What evaluate reads: a score file's scores as one array per label and split, in the split's
    row order whatever the file's; an issue of no split is skipped, one the file lacks is NaN."""
    by_split = {"val": [{"number": 7}, {"number": 3}, {"number": 4}], "test": [{"number": 5}]}
    rows = [
        {"label": "bug", "split": "val", "number": 3, "score": 0.25},
        {"label": "bug", "split": "val", "number": 7, "score": 0.75},
        {"label": "bug", "split": "test", "number": 9, "score": 0.5},  # not in the test split
        {"label": "docs", "split": "test", "number": 5, "score": 0.125},
    ]
    path = tmp_path / "scores.jsonl"
    write_jsonl(path, rows)
    scored = read_scores(path, by_split)
    assert set(scored) == {("bug", "val"), ("docs", "test")}
    assert scored[("bug", "val")][:2].tolist() == [0.75, 0.25] and np.isnan(scored[("bug", "val")][2])
    assert scored[("docs", "test")].tolist() == [0.125]


def test_choose_weight_scores_each_weight_by_mean_average_precision():
    y = np.array([0, 0, 1, 1])
    classifier = np.array([0.1, 0.2, 0.8, 0.9])  # ranks perfectly
    baseline = np.array([0.9, 0.8, 0.2, 0.1])  # ranks backwards
    # (1 - w) * classifier + w * baseline still ranks perfectly up to w = 0.4; at 0.5 all four tie
    _, by_weight = choose_weight([y, y], [classifier, classifier], [baseline, baseline], seed=0)
    assert list(by_weight) == [round(0.1 * i, 1) for i in range(11)]
    assert [by_weight[w] for w in (0.0, 0.1, 0.2, 0.3, 0.4)] == [1.0] * 5
    assert by_weight[0.5] == pytest.approx(0.5)  # one tie: precision 2/4 at full recall
    assert by_weight[1.0] == pytest.approx(5 / 12)  # both positives last: precision 1/3 and 2/4 at them


def noisy_scores(rng, y, signal):
    return (y * signal + rng.random(len(y))) / (1 + signal)  # in [0, 1], as probabilities


def test_choose_weight_follows_a_clearly_better_model():
    rng = np.random.default_rng(0)
    truth = [rng.integers(0, 2, 400) for _ in range(3)]
    strong, weak = ([noisy_scores(rng, y, signal) for y in truth] for signal in (1.5, 0.1))
    assert choose_weight(truth, strong, weak, seed=0)[0] <= 0.2
    assert choose_weight(truth, weak, strong, seed=0)[0] >= 0.8


def test_choose_weight_keeps_an_even_blend_within_the_noise():
    # Two models as good as each other on 40 issues: whichever scores a little higher there, the
    # difference is within one standard error, and the even blend stays (as on equal scores)
    rng = np.random.default_rng(1)
    truth = [rng.integers(0, 2, 40) for _ in range(3)]
    one, other = ([noisy_scores(rng, y, 0.5) for y in truth] for _ in range(2))
    weight, by_weight = choose_weight(truth, one, other, seed=0)
    assert max(by_weight.values()) > by_weight[0.5] or weight == 0.5
    assert weight == 0.5
    assert choose_weight(truth, one, one, seed=0)[0] == 0.5
    assert choose_weight(truth, one, other, seed=0) == (weight, by_weight)  # seeded: the same choice


def test_choose_weight_without_a_measurable_label():
    # A label with no positive (or no negative) on val says nothing about the blend: left out
    weight, by_weight = choose_weight([np.zeros(3), np.ones(3)], [np.ones(3)] * 2, [np.zeros(3)] * 2, seed=0)
    assert (weight, by_weight) == (0.5, {})
