"""The baseline's text rules chosen by cross-validation on train (baseline.py): stratified, seeded
folds, and the option whose out-of-fold scores rank best."""

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np

from {{ cookiecutter.package_name }}.baseline import choose_text, folds
from {{ cookiecutter.package_name }}.core.config import baseline_texts, load_config

CONFIG = load_config(Path(__file__).parents[1] / "config.yaml")


def test_folds_are_stratified_and_seeded():
    labels = [["bug"]] * 50 + [["question"]] * 20 + [["bug", "docs"]] * 7 + [[]] * 3
    fold = folds(labels, 5, seed=1)
    assert sorted(Counter(fold.tolist()).values()) == [16] * 5
    for combination in (["bug"], ["question"]):  # each combination spread evenly over the folds
        members = [f for f, own in zip(fold.tolist(), labels) if own == combination]
        assert set(Counter(members).values()) == {len(members) // 5}
    assert (folds(labels, 5, seed=1) == fold).all() and not (folds(labels, 5, seed=2) == fold).all()


def issues_whose_code_tells(rng, count):
    """Bugs paste a traceback, questions a config snippet; their prose says nothing."""
    words = ["editor", "panel", "save", "open", "window", "setting", "file", "theme", "today", "again"]
    issues, labels = [], []
    for i in range(count):
        bug = i % 2 == 0
        code = "Traceback KeyError raised in main" if bug else "config indent tabs true"
        prose = " ".join(rng.choice(words, 12))
        issues.append((f"problem with {rng.choice(words)}", f"{prose}\n```\n{code}\n```\n{prose}"))
        labels.append(["bug"] if bug else ["question"])
    return issues, labels


def test_choose_text_keeps_the_code_where_it_carries_the_label():
    issues, labels = issues_whose_code_tells(np.random.default_rng(0), 60)
    choices = baseline_texts(CONFIG)
    assert [c.strip_code_blocks for c in choices] == [True, False, "marker", False]
    best, scores = choose_text(CONFIG.baseline, choices, issues, labels, ["bug", "question"], seed=0)
    assert scores[1] == scores[3] == 1.0 and scores[0] < 0.8  # stripped: prose alone ranks at chance
    assert best == 1  # the tie with option 3 goes to the earlier
    assert choose_text(CONFIG.baseline, choices, issues, labels, ["bug", "question"], seed=0) == (best, scores)


def test_choose_text_keeps_preprocess_rules_when_nothing_is_gained():
    rng = np.random.default_rng(1)
    issues, labels = issues_whose_code_tells(rng, 40)
    issues = [(title, body.replace("```", "")) for title, body in issues]  # no fences: every option is the same text
    choices = [dataclasses.replace(CONFIG.preprocess.text, strip_code_blocks=value) for value in (True, False)]
    best, scores = choose_text(CONFIG.baseline, choices, issues, labels, ["bug", "question"], seed=0)
    assert best == 0 and scores[0] == scores[1]
