"""The baseline every deep model must beat: TF-IDF n-grams and a logistic regression per label.
Its models are kept (`models/baseline/<label>.pkl`) because `evaluate.baseline_weight` can blend
its scores into the classifiers' at prediction time."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from .core.config import BaselineConfig


def fit(options: BaselineConfig, texts: list[str], y: np.ndarray, seed: int) -> Pipeline:
    """One label's model, fitted on the train split's texts and 0/1 targets."""
    vectorizer = TfidfVectorizer(ngram_range=(1, options.ngram_max), sublinear_tf=True, min_df=options.min_df)
    if y.min() == y.max():  # one class only: nothing to learn, a constant score
        return make_pipeline(vectorizer, DummyClassifier(strategy="prior")).fit(texts, y)
    model = LogisticRegression(C=options.c, class_weight="balanced", max_iter=2000, random_state=seed)
    return make_pipeline(vectorizer, model).fit(texts, y)


def scores(model: Pipeline, texts: list[str]) -> np.ndarray:
    """The probability of the label for each text."""
    classes = list(model.classes_)
    if 1 not in classes or not texts:  # no texts: a split without issues
        return np.zeros(len(texts))
    return model.predict_proba(texts)[:, classes.index(1)]


def save(model: Pipeline, path: Path) -> None:
    path.write_bytes(pickle.dumps(model))


def load(path: Path) -> Pipeline:
    return pickle.loads(path.read_bytes())  # our own stage's output, never downloaded files
