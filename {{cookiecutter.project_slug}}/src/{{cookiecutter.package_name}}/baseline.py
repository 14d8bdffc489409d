"""The baseline every deep model must beat: TF-IDF n-grams and a logistic regression per label.
Its models are kept (`models/baseline/<label>.pkl`) because `evaluate.baseline_weight` can blend
its scores into the classifiers' at prediction time."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from .core.config import BaselineConfig


def fit_all(
    options: BaselineConfig, texts: list[str], targets: dict[str, np.ndarray], seed: int, splits: dict[str, list[str]]
) -> Iterator[tuple[str, Pipeline, dict[str, np.ndarray]]]:
    """Each label's model, fitted on the train split's texts and its 0/1 targets, with its scores of
    `splits`' texts, one label at a time. The TF-IDF vectorizer depends on no label: it is fitted
    once and shared (each label's model holds the same one), the texts transformed once."""
    vectorizer = TfidfVectorizer(ngram_range=(1, options.ngram_max), sublinear_tf=True, min_df=options.min_df)
    x = vectorizer.fit_transform(texts)
    features = {split: _features(vectorizer, split_texts) for split, split_texts in splits.items()}
    for slug, y in targets.items():
        if y.min() == y.max():  # one class only: nothing to learn, a constant score
            last = DummyClassifier(strategy="prior").fit(x, y)
        else:
            last = LogisticRegression(C=options.c, class_weight="balanced", max_iter=2000, random_state=seed).fit(x, y)
        yield slug, make_pipeline(vectorizer, last), {split: _probability(last, f) for split, f in features.items()}


def _features(vectorizer: TfidfVectorizer, texts: list[str]):
    """`texts` as TF-IDF rows (scikit-learn refuses no texts: a split without issues has no rows)."""
    return vectorizer.transform(texts) if texts else sparse.csr_matrix((0, len(vectorizer.vocabulary_)))


def _probability(estimator, x) -> np.ndarray:
    classes = list(estimator.classes_)
    if 1 not in classes or x.shape[0] == 0:
        return np.zeros(x.shape[0])
    return estimator.predict_proba(x)[:, classes.index(1)]


def scores(model: Pipeline, texts: list[str]) -> np.ndarray:
    """The probability of the label for each text."""
    return _probability(model[-1], _features(model[0], texts))


def save(model: Pipeline, path: Path) -> None:
    path.write_bytes(pickle.dumps(model))


def load(path: Path) -> Pipeline:
    return pickle.loads(path.read_bytes())  # our own stage's output, never downloaded files


class Baselines:
    """Every label's baseline, scoring a text with one TF-IDF transform for all labels: the labels'
    vectorizers are fitted on the same texts with the same options, so they are one vectorizer,
    and the logistic regressions are one matrix product. Scores equal `scores` per label."""

    def __init__(self, models: dict[str, Pipeline]):
        self.models, self.groups = models, {}
        for slug, model in models.items():  # a label whose vectorizer differs has its own group
            vectorizer = model.steps[0][1]
            self.groups.setdefault(hashlib.sha256(pickle.dumps(vectorizer)).digest(), (vectorizer, []))[1].append(slug)

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        if not texts:
            return {slug: np.zeros(0) for slug in self.models}
        result = {}
        for vectorizer, slugs in self.groups.values():
            x = vectorizer.transform(texts)
            linear = [s for s in slugs if isinstance(self.models[s][-1], LogisticRegression)]
            if linear:  # binary: the probability of class 1 is expit(x . coef + intercept)
                weights = np.vstack([self.models[s][-1].coef_ for s in linear])
                bias = np.array([self.models[s][-1].intercept_[0] for s in linear])
                result.update(zip(linear, expit(np.asarray(x @ weights.T) + bias).T))
            for slug in set(slugs) - set(linear):
                result[slug] = scores(self.models[slug], texts)
        return {slug: result[slug] for slug in self.models}
