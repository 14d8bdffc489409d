"""The one prediction path (the predict command, label, serve, promote's consistency check): new
issues -> the score of every label and the labels applied, at the thresholds evaluate chose or at a
chosen precision. Text is normalised as preprocess normalised it, each issue is encoded once for all
labels, and scores are blended as evaluate blended them.

A model is a set of files (`Model`): the pipeline's outputs where config.yaml's paths put them
(`trained`), or a promoted copy of them in one folder (`Model.at`), which also carries the text rules
and encoder layout it was trained with, so that it predicts the same whatever config.yaml says now."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import baseline
from .core import files
from .core.config import Config, EncoderConfig, TextConfig
from .core.errors import PipelineError
from .evaluate import blend
from .text import normalise

# A promoted model's folder: the pipeline outputs it copies, and what it adds
LAYOUT = {
    "encoder": "encoder",
    "classifiers": "classifiers",
    "baseline": "baseline",
    "thresholds": "thresholds.json",
    "metrics": "metrics.json",
    "predictions": "test_predictions.jsonl",
}
MODEL_CARD = "model.json"  # version, settings, what it was promoted with


class PredictError(PipelineError):
    """Prediction cannot run; the message says what is missing."""


@dataclass(frozen=True)
class Model:
    """The files of one model, and how issues become its input."""

    encoder: Path
    classifiers: Path
    baseline: Path
    thresholds: Path
    metrics: Path
    predictions: Path
    text: TextConfig
    layout: EncoderConfig
    version: str | None = None  # a promoted model's (see promote.py)
    card: dict | None = None  # and what it was promoted with: when, from which commit, its metrics

    @classmethod
    def at(cls, folder: str | Path) -> Model:
        """A promoted model's folder."""
        folder = Path(folder)
        card = folder / MODEL_CARD
        if not card.is_file():
            raise PredictError(f"{folder}: no promoted model ({MODEL_CARD} not found); expected `promote` to have run")
        info = files.read_json(card)
        return cls(
            **{key: folder / name for key, name in LAYOUT.items()},
            text=TextConfig(**info["text"]),
            layout=EncoderConfig(**info["encoder"]),
            version=info["version"],
            card=info,
        )

    def deployed(self) -> dict:
        """What evaluate chose to deploy: the model, its blend weight and each label's thresholds."""
        if not self.thresholds.is_file():
            raise PredictError(f"{self.thresholds} not found; expected trained models: run `dvc repro` first")
        return files.read_json(self.thresholds)

    def test_metrics(self) -> dict:
        """The test metrics of the model prediction uses (evaluate's metrics.json holds all three)."""
        return files.read_json(self.metrics)[self.deployed()["model"]]

    def settings(self) -> dict:
        return {"text": dataclasses.asdict(self.text), "encoder": dataclasses.asdict(self.layout)}


def trained(config: Config) -> Model:
    """The pipeline's outputs, read as config.yaml says."""
    paths = config.paths
    return Model(
        **{key: Path(getattr(paths, key)) for key in LAYOUT},
        text=config.preprocess.text,
        layout=config.encoder,
    )


def precision_levels(saved: dict) -> list[str]:
    """The precisions ("0.80") at which evaluate stored every label's threshold."""
    return list(next(iter(saved["labels"].values()))["by_precision"]) if saved["labels"] else []


def threshold_key(saved: dict, precision: float | None, name: str = "--precision") -> str | None:
    """The stored precision level ("0.80") of `precision`; checked before any model loads."""
    if precision is None:
        return None
    levels = precision_levels(saved)
    if f"{precision:.2f}" not in levels:
        raise PredictError(f"{name}: expected one of {', '.join(levels)}; found {precision}")
    return f"{precision:.2f}"


class Predictor:
    """A model's encoder, heads, baselines and thresholds, loaded once. An issue is tokenised and
    encoded once for all labels, in one TensorFlow function (encoder, pooling and every head),
    with its padding cut to the batch's longest issue (`encoder.bucketed`)."""

    BATCH = 64  # issues per call of the function

    def __init__(self, model: Model, saved: dict | None = None):
        from .classifier import Saved
        from .encoder import Encoder

        saved = saved or model.deployed()
        self.model, self.thresholds, self.weight = model, saved["labels"], saved["baseline_weight"]
        self.encoder = Encoder(model.encoder, model.layout)
        self.heads = {slug: Saved(model.classifiers / slug) for slug in self.thresholds}
        for slug, head in self.heads.items():
            used = {key: head.meta.get(key) for key in self.encoder.layout()}
            if head.trained and used != self.encoder.layout():
                raise PredictError(
                    f"{model.classifiers}/{slug}: trained with encoder {used}; config.yaml's `encoder` "
                    f"says {self.encoder.layout()}: run `dvc repro` to retrain"
                )
        self.baselines = baseline.load(model.baseline, self.thresholds) if self.weight else None
        self._forward = self._function()

    def _function(self):
        """texts -> (pooled vectors, the score of every trained head): one TensorFlow function,
        from tokenising to the heads, traced once for any number and length of texts."""
        from .encoder import bucketed
        from .runtime import tf

        frozen = [(slug, head.arrays) for slug, head in self.heads.items() if head.arrays is not None]  # on vectors
        tuned = [(slug, head.model) for slug, head in self.heads.items() if head.model is not None]  # own encoder
        self.trained = [slug for slug, _ in frozen + tuned]
        on_vectors = scorer([arrays for _, arrays in frozen]) if frozen else None
        length = self.model.layout.sequence_length

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def forward(texts):
            tokens = bucketed(self.encoder.pack(texts), length)
            pooled = self.encoder.pooled(tokens, training=False)
            scores = ([on_vectors(pooled)] if frozen else []) + [model(tokens, training=False) for _, model in tuned]
            scores = [tf.cast(part, pooled.dtype) for part in scores]
            return pooled, tf.concat(scores, axis=1) if scores else tf.zeros([tf.shape(pooled)[0], 0], pooled.dtype)

        return forward

    def normalise(self, issues: list[dict]) -> list[str]:
        """Model text of issues ({title, body}), as preprocess made it of the training issues."""
        return [normalise(issue.get("title") or "", issue.get("body") or "", self.model.text) for issue in issues]

    def forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Pooled vectors and trained heads' scores (columns: self.trained) of normalised texts."""
        if not texts:
            return np.zeros((0, self.encoder.pooled.output.shape[-1]), "float32"), np.zeros((0, len(self.trained)))
        parts = [self._forward(texts[i : i + self.BATCH]) for i in range(0, len(texts), self.BATCH)]
        if len(parts) == 1:
            return np.asarray(parts[0][0]), np.asarray(parts[0][1])
        return tuple(np.concatenate([np.asarray(part[k]) for part in parts]) for k in (0, 1))

    def embed(self, texts: list[str]) -> np.ndarray:
        """The encoder's pooled vector of each (normalised) text."""
        return self.forward(texts)[0]

    def scores(self, issues: list[dict]) -> dict[str, np.ndarray]:
        """slug -> the deployed model's score of each issue ({title, body}): the encoder reads the
        text as preprocess made it, the baseline as its own text rules make it."""
        texts = self.normalise(issues)
        _, head_scores = self.forward(texts)
        column = {slug: head_scores[:, i] for i, slug in enumerate(self.trained)}
        scores = {slug: column.get(slug, np.zeros(len(texts))) for slug in self.heads}  # an untrained head: 0
        if self.baselines is not None:
            if self.baselines.title_ngrams or self.baselines.text not in (None, self.model.text):  # rules of its own
                texts = self.baselines.documents(issues, self.model.text)
            theirs = self.baselines.scores(texts)
            scores = {slug: blend(score, theirs[slug], self.weight) for slug, score in scores.items()}
        return scores

    def predict(self, issues: list[dict], key: str | None = None) -> list[dict]:
        """Per issue: its number, every label's score (by GitHub name) and the labels applied, at the
        deployed thresholds or at precision level `key` (see threshold_key)."""
        results = [{"number": issue.get("number"), "scores": {}, "labels": []} for issue in issues]
        if not issues:
            return results
        for slug, scores in self.scores(issues).items():
            info = self.thresholds[slug]
            threshold = info["threshold"] if key is None else info["by_precision"][key]
            for result, score in zip(results, scores):
                result["scores"][info["name"]] = round(float(score), 8)  # as the score files keep them
                if threshold is not None and score >= threshold:
                    result["labels"].append(info["name"])
        return results


def predict(config: Config, issues: list[dict], precision: float | None = None) -> list[dict]:
    model = trained(config)
    saved = model.deployed()
    key = threshold_key(saved, precision)  # a bad level is answered before TensorFlow loads
    return Predictor(model, saved).predict(issues, key)


def scorer(heads: list[list[np.ndarray]]):
    """pooled vectors -> (issues, heads) scores of heads on the frozen encoder (head.Head's arrays),
    as a few batched TensorFlow ops for all of them (fifty heads one by one cost fifty times a
    dozen small ops): standardise, Dense + ReLU, Dense + sigmoid, heads of the same shape stacked."""
    from .runtime import tf

    groups: dict[tuple, list[int]] = {}
    for index, arrays in enumerate(heads):
        groups.setdefault(tuple(a.shape for a in arrays), []).append(index)
    stacked = [[tf.constant(np.stack(parts)) for parts in zip(*(heads[i] for i in members))]
               for members in groups.values()]  # fmt: skip
    order = np.argsort([i for members in groups.values() for i in members])  # back to the heads' order

    def scores(pooled):
        columns = []
        for mean, scale, *dense in stacked:
            z = (tf.cast(pooled, tf.float32)[None] - mean[:, None]) / scale[:, None]  # (heads, issues, features)
            for layer, (kernel, bias) in enumerate(zip(dense[::2], dense[1::2]), 1):
                z = tf.einsum("lnd,ldh->lnh", z, kernel) + bias[:, None]
                z = tf.sigmoid(z) if layer == len(dense) // 2 else tf.nn.relu(z)
            columns.append(tf.transpose(z[:, :, 0]))
        return tf.gather(tf.concat(columns, axis=1), order, axis=1)

    return scores
