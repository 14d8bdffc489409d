"""The baseline every deep model must beat: TF-IDF n-grams and a logistic regression per label,
on text rules of its own that cross-validation on train chose. Its models are kept
(`models/baseline/`: the TF-IDF vectorizer once, `vectorizer.pkl`, each label's regression,
`<label>.pkl`, and the text rules, `text.json`) because `evaluate.baseline_weight` can blend its
scores into the classifiers' at prediction time. An option may add the title's n-grams as features
of their own (`title_ngrams`): a short title then weighs as much as a long body, which helps where
titles carry the label ("How do I ...") and hurts where an issue form's body does."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from .core import files
from .core.config import BaselineConfig, BaselineOption, TextConfig
from .dataset import TEXT_RULES
from .selection import mean_average_precision, one_standard_error
from .text import normalise

VECTORIZER = "vectorizer.pkl"
TITLE_END = "\x1f"  # ends the title in a document with title n-grams: normalise leaves no such character


def document(title: str, body: str, text: TextConfig, title_ngrams: bool) -> str:
    """An issue as the baseline reads it: its text by `text`'s rules, after its title alone (and
    TITLE_END) when the title's n-grams are features of their own."""
    whole = normalise(title, body, text)
    return normalise(title, "", text) + TITLE_END + whole if title_ngrams else whole


class TitledVectorizer:
    """The whole text's TF-IDF n-grams, then the title's, side by side (each block of unit length)
    for documents with TITLE_END. No title with a word: the whole text's n-grams alone."""

    def __init__(self, **params):
        self.whole, self.title = TfidfVectorizer(**params), TfidfVectorizer(**params)

    def fit_transform(self, documents: list[str]):
        titles, wholes = zip(*(d.partition(TITLE_END)[::2] for d in documents)) if documents else ((), ())
        x = self.whole.fit_transform(wholes)
        try:
            return sparse.hstack([x, self.title.fit_transform(titles)], format="csr")
        except ValueError:  # scikit-learn's "empty vocabulary": not one title has a word
            self.title = None
            return x

    def transform(self, documents: list[str]):
        titles, wholes = zip(*(d.partition(TITLE_END)[::2] for d in documents)) if documents else ((), ())
        x = self.whole.transform(wholes)
        return x if self.title is None else sparse.hstack([x, self.title.transform(titles)], format="csr")

    def width(self) -> int:
        return len(self.whole.vocabulary_) + (len(self.title.vocabulary_) if self.title is not None else 0)


def width(vectorizer: TfidfVectorizer | TitledVectorizer) -> int:
    """The number of features (n-grams) a vectorizer makes."""
    return vectorizer.width() if isinstance(vectorizer, TitledVectorizer) else len(vectorizer.vocabulary_)


def fit_all(
    options: BaselineConfig,
    texts: list[str],
    targets: dict[str, np.ndarray],
    seed: int,
    splits: dict[str, list[str]],
    title_ngrams: bool = False,
) -> tuple[TfidfVectorizer | TitledVectorizer, Iterator[tuple[str, LogisticRegression | DummyClassifier, dict]]]:
    """The TF-IDF vectorizer, fitted on the train split's texts (documents, with `title_ngrams`)
    (it depends on no label: fitted and applied once), and each label's model fitted on its 0/1
    targets, with its scores of `splits`' texts, one label at a time. `max_features` bounds the
    vocabulary, hence each label's coefficients: a big tracker's n-grams run to millions."""
    params = dict(ngram_range=(1, options.ngram_max), sublinear_tf=True, min_df=options.min_df,
                  max_features=options.max_features)  # fmt: skip
    vectorizer = TitledVectorizer(**params) if title_ngrams else TfidfVectorizer(**params)
    x = vectorizer.fit_transform(texts)
    features = {split: _features(vectorizer, split_texts) for split, split_texts in splits.items()}

    def fitted():
        for slug, y in targets.items():
            if y.min() == y.max():  # one class only: nothing to learn, a constant score
                model = DummyClassifier(strategy="prior").fit(x, y)
            else:
                model = LogisticRegression(C=options.c, class_weight="balanced", max_iter=2000, random_state=seed)
                # one BLAS thread: L-BFGS-B's updates of a vector per n-gram ran 2.3x slower on two
                # threads than on one, and the sums no longer depend on how many cores the machine has
                with threadpool_limits(1):
                    model.fit(x, y)
            yield slug, model, {split: _probability(model, f) for split, f in features.items()}

    return vectorizer, fitted()


def folds(labels: list[list[str]], k: int, seed: int) -> np.ndarray:
    """Each issue's fold, 0 .. k-1, stratified: the issues of each label combination are shuffled
    (seeded) and dealt out in turn, the next combination carrying on where the last one stopped."""
    groups: dict[tuple, list[int]] = {}
    for i, own in enumerate(labels):
        groups.setdefault(tuple(sorted(own)), []).append(i)
    rng = np.random.default_rng(seed)
    fold, dealt = np.zeros(len(labels), "int64"), 0
    for key in sorted(groups):
        members = rng.permutation(groups[key])
        fold[members] = (dealt + np.arange(len(members))) % k
        dealt += len(members)
    return fold


def choose_text(
    options: BaselineConfig, choices: list[BaselineOption], issues: list[tuple[str, str]], labels: list[list[str]],
    slugs: list[str], seed: int,
) -> tuple[int, list[float | None]]:  # fmt: skip
    """The index of the option in `choices` whose baseline ranks `issues` ((title, body), each
    with its label slugs) best out of fold, and each choice's score (mean average precision over
    the `max_labels` most frequent of `slugs`): the earliest choice within one standard error of
    the best."""
    counts = Counter(slug for own in labels for slug in own)
    # the most frequent labels decide: a rare label's few positives rank by chance, and each label
    # scored costs folds x options fits (200 labels: 4,000 regressions)
    slugs = sorted(slugs, key=lambda slug: -counts[slug])[: options.text.max_labels]
    fold = folds(labels, options.text.folds, seed)
    truth = [np.array([slug in own for own in labels], "float32") for slug in slugs]
    outs = []
    for choice in choices:
        texts = [document(title, body, choice.text, choice.title_ngrams) for title, body in issues]
        out = [np.zeros(len(issues)) for _ in slugs]
        for held in range(options.text.folds):
            inside = fold != held
            part = [text for text, keep in zip(texts, inside) if keep]
            left = {"held": [text for text, keep in zip(texts, inside) if not keep]}
            held_targets = {s: y[inside] for s, y in zip(slugs, truth)}
            _, fitted = fit_all(options, part, held_targets, seed, left, choice.title_ngrams)
            for column, (_, _, scored) in zip(out, fitted):
                column[~inside] = scored["held"]
        outs.append(out)
    if mean_average_precision(truth, outs[0]) is None:  # no label to rank: nothing to choose by
        return 0, [None] * len(choices)
    scores, close = one_standard_error(truth, outs, seed)
    return min(close), scores  # the earliest as good as the best: preprocess's own rules come first


def save_text(folder: Path, chosen: BaselineOption, tried: list[dict]) -> None:
    rules = {"text": dataclasses.asdict(chosen.text), "title_ngrams": chosen.title_ngrams, "cross_validated": tried}
    files.write_json(folder / TEXT_RULES, rules)


def _features(vectorizer: TfidfVectorizer | TitledVectorizer, texts: list[str]):
    """`texts` as TF-IDF rows (scikit-learn refuses no texts: a split without issues has no rows)."""
    return vectorizer.transform(texts) if texts else sparse.csr_matrix((0, width(vectorizer)))


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
    rules = files.read_json(folder / TEXT_RULES) if (folder / TEXT_RULES).is_file() else {}
    text = TextConfig(**rules["text"]) if rules else None
    if (folder / VECTORIZER).exists():
        vectorizer = _load(folder / VECTORIZER)
        models = {slug: (vectorizer, _load(folder / f"{slug}.pkl")) for slug in slugs}
        return Baselines(models, text, rules.get("title_ngrams", False))
    pipelines: dict[str, Pipeline] = {slug: _load(folder / f"{slug}.pkl") for slug in slugs}
    shared = {}  # each pipeline holds its own copy of the one vectorizer: equal copies become one object
    models = {}
    for slug, pipeline in pipelines.items():
        vectorizer = shared.setdefault(hashlib.sha256(pickle.dumps(pipeline[0])).digest(), pipeline[0])
        models[slug] = (vectorizer, pipeline[-1])
    return Baselines(models, text)


class Baselines:
    """Every label's baseline, scoring texts with one TF-IDF transform for all labels that share
    a vectorizer object, and their logistic regressions as one matrix product (stacked once).
    `text`: the text rules it was trained with (None: saved before it had its own, preprocess's),
    `title_ngrams`: whether its documents lead with their title (`document`)."""

    def __init__(
        self, models: dict[str, tuple[TfidfVectorizer | TitledVectorizer, LogisticRegression | DummyClassifier]],
        text: TextConfig | None, title_ngrams: bool = False,
    ):  # fmt: skip
        self.slugs, grouped, self.text, self.title_ngrams = list(models), {}, text, title_ngrams
        for slug, (vectorizer, model) in models.items():
            grouped.setdefault(id(vectorizer), (vectorizer, {}))[1][slug] = model
        self.groups = []
        for vectorizer, group in grouped.values():
            linear = [slug for slug, model in group.items() if isinstance(model, LogisticRegression)]
            # n-grams x labels, row-major: scipy multiplies a sparse matrix by it with no copy (filled
            # in place: 420 MB at 200 labels x 262,144 n-grams, so no stacked copy besides)
            weights = np.empty((width(vectorizer), len(linear)))
            for column, slug in enumerate(linear):
                weights[:, column] = group[slug].coef_[0]
            bias = np.array([group[slug].intercept_[0] for slug in linear])
            others = {slug: model for slug, model in group.items() if slug not in linear}
            self.groups.append((vectorizer, linear, weights, bias, others))

    def documents(self, issues: list[dict], text: TextConfig) -> list[str]:
        """Issues ({title, body}) as this baseline reads them; `text`: the rules if it has none of its own."""
        rules = self.text or text
        return [document(i.get("title") or "", i.get("body") or "", rules, self.title_ngrams) for i in issues]

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        result = {}
        for vectorizer, linear, weights, bias, others in self.groups:
            x = _features(vectorizer, texts)
            if linear:  # binary: the probability of class 1 is expit(x . coef + intercept)
                result.update(zip(linear, expit(np.asarray(x @ weights) + bias).T))
            result.update({slug: _probability(model, x) for slug, model in others.items()})
        return {slug: result[slug] for slug in self.slugs}
