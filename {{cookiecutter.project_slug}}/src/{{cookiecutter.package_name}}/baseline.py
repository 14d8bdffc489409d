"""The baseline every deep model must beat: TF-IDF n-grams and a logistic regression per label."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .config import BaselineConfig


def fit_scores(
    options: BaselineConfig, train_texts: list[str], train_y: np.ndarray, texts: list[str], seed: int
) -> np.ndarray:
    """Scores of `texts` for one label, by a model fitted on the train split."""
    if train_y.min() == train_y.max():
        return np.full(len(texts), float(train_y[0]))
    vectorizer = TfidfVectorizer(ngram_range=(1, options.ngram_max), sublinear_tf=True, min_df=options.min_df)
    model = LogisticRegression(C=options.c, class_weight="balanced", max_iter=2000, random_state=seed)
    model.fit(vectorizer.fit_transform(train_texts), train_y)
    return model.predict_proba(vectorizer.transform(texts))[:, 1]
