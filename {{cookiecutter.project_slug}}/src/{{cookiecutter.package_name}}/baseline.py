"""The baseline every deep model must beat: TF-IDF n-grams and a logistic regression per label.
Its models are kept (`models/baseline/`: the TF-IDF vectorizer once, `vectorizer.pkl`, and each
label's regression, `<label>.pkl`) because `evaluate.baseline_weight` can blend its scores into
the classifiers' at prediction time."""

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
from sklearn.pipeline import Pipeline

from .core.config import BaselineConfig

VECTORIZER = "vectorizer.pkl"


def fit_all(
    options: BaselineConfig, texts: list[str], targets: dict[str, np.ndarray], seed: int, splits: dict[str, list[str]]
) -> tuple[TfidfVectorizer, Iterator[tuple[str, LogisticRegression | DummyClassifier, dict[str, np.ndarray]]]]:
    """The TF-IDF vectorizer, fitted on the train split's texts (it depends on no label: fitted
    and applied once), and each label's model fitted on its 0/1 targets, with its scores of
    `splits`' texts, one label at a time. `max_features` bounds the vocabulary, hence each label's
    coefficients: a big tracker's n-grams run to millions."""
    vectorizer = TfidfVectorizer(
        ngram_range=(1, options.ngram_max), sublinear_tf=True, min_df=options.min_df, max_features=options.max_features
    )
    x = vectorizer.fit_transform(texts)
    features = {split: _features(vectorizer, split_texts) for split, split_texts in splits.items()}

    def fitted():
        for slug, y in targets.items():
            if y.min() == y.max():  # one class only: nothing to learn, a constant score
                model = DummyClassifier(strategy="prior").fit(x, y)
            else:
                model = LogisticRegression(C=options.c, class_weight="balanced", max_iter=2000, random_state=seed)
                model.fit(x, y)
            yield slug, model, {split: _probability(model, f) for split, f in features.items()}

    return vectorizer, fitted()


def _features(vectorizer: TfidfVectorizer, texts: list[str]):
    """`texts` as TF-IDF rows (scikit-learn refuses no texts: a split without issues has no rows)."""
    return vectorizer.transform(texts) if texts else sparse.csr_matrix((0, len(vectorizer.vocabulary_)))


def _probability(estimator, x) -> np.ndarray:
    classes = list(estimator.classes_)
    if 1 not in classes or x.shape[0] == 0:
        return np.zeros(x.shape[0])
    return estimator.predict_proba(x)[:, classes.index(1)]


def save(model, path: Path) -> None:
    path.write_bytes(pickle.dumps(model))


def _load(path: Path):
    return pickle.loads(path.read_bytes())  # our own stage's output, never downloaded files


def load(folder: Path, slugs) -> Baselines:
    """The baselines of `slugs` saved in `folder`. Models saved before the vectorizer had its own
    file are a scikit-learn pipeline each (vectorizer, regression): they still load."""
    if (folder / VECTORIZER).exists():
        vectorizer = _load(folder / VECTORIZER)
        return Baselines({slug: (vectorizer, _load(folder / f"{slug}.pkl")) for slug in slugs})
    pipelines: dict[str, Pipeline] = {slug: _load(folder / f"{slug}.pkl") for slug in slugs}
    shared = {}  # each pipeline holds its own copy of the one vectorizer: equal copies become one object
    models = {}
    for slug, pipeline in pipelines.items():
        vectorizer = shared.setdefault(hashlib.sha256(pickle.dumps(pipeline[0])).digest(), pipeline[0])
        models[slug] = (vectorizer, pipeline[-1])
    return Baselines(models)


class Baselines:
    """Every label's baseline, scoring texts with one TF-IDF transform for all labels that share
    a vectorizer object, and their logistic regressions as one matrix product (stacked once)."""

    def __init__(self, models: dict[str, tuple[TfidfVectorizer, LogisticRegression | DummyClassifier]]):
        self.slugs, grouped = list(models), {}
        for slug, (vectorizer, model) in models.items():
            grouped.setdefault(id(vectorizer), (vectorizer, {}))[1][slug] = model
        self.groups = []
        for vectorizer, group in grouped.values():
            linear = [slug for slug, model in group.items() if isinstance(model, LogisticRegression)]
            # n-grams x labels, row-major: scipy multiplies a sparse matrix by it with no copy (filled
            # in place: 420 MB at 200 labels x 262,144 n-grams, so no stacked copy besides)
            weights = np.empty((len(vectorizer.vocabulary_), len(linear)))
            for column, slug in enumerate(linear):
                weights[:, column] = group[slug].coef_[0]
            bias = np.array([group[slug].intercept_[0] for slug in linear])
            others = {slug: model for slug, model in group.items() if slug not in linear}
            self.groups.append((vectorizer, linear, weights, bias, others))

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        result = {}
        for vectorizer, linear, weights, bias, others in self.groups:
            x = _features(vectorizer, texts)
            if linear:  # binary: the probability of class 1 is expit(x . coef + intercept)
                result.update(zip(linear, expit(np.asarray(x @ weights) + bias).T))
            result.update({slug: _probability(model, x) for slug, model in others.items()})
        return {slug: result[slug] for slug in self.slugs}
