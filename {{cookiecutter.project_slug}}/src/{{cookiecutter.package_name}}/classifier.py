"""One binary classifier per label on the fine-tuned encoder.

With `classifier.params.train_encoder: false` (the default) the encoder is frozen: every issue
is encoded once and a small head is trained on the pooled vectors, which is fast and cheap.
With `true`, encoder and head are trained together. Either way the label's folder holds what
prediction needs: `meta.json`, and `head.keras` or `model.keras`.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras_hub
import numpy as np

from .language_model import pooled_model, tokenize
from .runtime import keras

METRICS = ("pr_auc", "roc_auc")


class Encoder:
    """The fine-tuned encoder preset: tokenisation and pooled issue vectors."""

    VECTORS = "vectors"  # in the preset folder: the labelled issues' vectors (.npy) and their index (.json)

    def __init__(self, preset: str | Path, sequence_length: int, pooling: str, truncation: str = "head"):
        self.preset, self.sequence_length, self.pooling = Path(preset), sequence_length, pooling
        self.truncation = truncation
        self.preprocessor = keras_hub.models.TextClassifierPreprocessor.from_preset(
            str(preset), sequence_length=sequence_length
        )
        self.backbone = keras_hub.models.Backbone.from_preset(str(preset))
        self.pooled = pooled_model(self.backbone, pooling)

    def layout(self) -> dict:
        """How texts become vectors: saved with the vectors and with each label's model."""
        return {"sequence_length": self.sequence_length, "pooling": self.pooling, "truncation": self.truncation}

    def tokenize(self, texts: list[str], chunk: int = 512) -> dict[str, np.ndarray]:
        """Token arrays for `texts`: computed once per split, reused by every epoch and trial."""
        return tokenize(self.preprocessor, texts, self.truncation, chunk)

    def encode(self, tokens: dict[str, np.ndarray], batch_size: int = 64) -> np.ndarray:
        """Pooled vectors of tokenised issues."""
        return self.pooled.predict(tokens, batch_size=batch_size, verbose=0)

    def save_vectors(self, numbers: list[int], texts: list[str]) -> None:
        """Encode the issues once for every label's head (each would otherwise encode them all).
        Plain .npy and .json, byte-identical from run to run (an .npz stamps the time)."""
        np.save(self.preset / f"{self.VECTORS}.npy", self.encode(self.tokenize(texts)))
        index = {**self.layout(), "numbers": numbers}
        (self.preset / f"{self.VECTORS}.json").write_text(json.dumps(index) + "\n")

    def vectors(self, numbers: list[int], texts: list[str]) -> np.ndarray:
        """Pooled vectors of these issues: the saved ones when they were made as this encoder
        makes them (same length, pooling and truncation), else encoded now."""
        path = self.preset / f"{self.VECTORS}.json"
        if path.is_file():
            index = json.loads(path.read_text())
            row = {number: i for i, number in enumerate(index["numbers"])}
            same = {key: index.get(key) for key in self.layout()} == self.layout()
            if same and all(number in row for number in numbers):
                return np.load(self.preset / f"{self.VECTORS}.npy")[[row[number] for number in numbers]]
        return self.encode(self.tokenize(texts))


def build_head(hp: dict) -> keras.Sequential:
    layers: list = [keras.layers.Dropout(hp["dropout"])]
    if hp["hidden_units"]:
        layers += [keras.layers.Dense(int(hp["hidden_units"]), activation="relu"), keras.layers.Dropout(hp["dropout"])]
    layers.append(keras.layers.Dense(1, activation="sigmoid", name="score", dtype="float32"))
    return keras.Sequential(layers, name="head")


def compile_model(model: keras.Model, learning_rate: float, jit_compile: bool) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(curve="PR", name="pr_auc"), keras.metrics.AUC(name="roc_auc")],
        jit_compile=jit_compile,
    )
    return model


def build_model(encoder: Encoder, hp: dict, vectors: np.ndarray | None, jit_compile: bool) -> keras.Model:
    """Encoder + head trained together; or, given the train split's `vectors`, a head alone on
    encoded vectors, which it first standardises (pooled vectors of a small encoder can differ
    from issue to issue by little, and a head learns slowly from such inputs)."""
    head = build_head(hp)
    if vectors is None:
        model = keras.Model(encoder.pooled.input, head(encoder.pooled.output), name="classifier")
    else:
        inputs = keras.Input(shape=(vectors.shape[1],), name="pooled")
        standardise = keras.layers.Normalization(name="standardise")
        standardise.adapt(vectors)
        model = keras.Model(inputs, head(standardise(inputs)), name="classifier")
    return compile_model(model, float(hp["learning_rate"]), jit_compile)


def class_weights(y: np.ndarray, policy: str) -> dict[int, float] | None:
    positives = int(y.sum())
    if policy == "none" or positives in (0, len(y)):
        return None
    return {0: len(y) / (2 * (len(y) - positives)), 1: len(y) / (2 * positives)}


def save(model: keras.Model, directory: Path, meta: dict) -> None:
    name = "model.keras" if meta["train_encoder"] else "head.keras"
    model.save(directory / name)
    (directory / "meta.json").write_text(json.dumps({**meta, "model": name}, indent=2, sort_keys=True) + "\n")


class Predictor:
    """Scores issues with a trained label folder, exactly as at training time."""

    def __init__(self, directory: Path, encoder: Encoder):
        self.meta = json.loads((directory / "meta.json").read_text())
        self.encoder = encoder
        self.model = keras.models.load_model(directory / self.meta["model"]) if self.meta["trained"] else None

    def scores(self, tokens: dict[str, np.ndarray], vectors: np.ndarray | None = None) -> np.ndarray:
        """Scores of tokenised issues; `vectors` (their pooled encodings) saves re-encoding."""
        if self.model is None:
            return np.zeros(len(tokens["token_ids"]))
        if self.meta["train_encoder"]:
            inputs = tokens
        else:
            inputs = vectors if vectors is not None else self.encoder.encode(tokens)
        return self.model.predict(inputs, batch_size=64, verbose=0).reshape(-1)
