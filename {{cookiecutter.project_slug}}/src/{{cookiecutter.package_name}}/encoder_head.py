"""A label's classifier that fine-tunes its own copy of the encoder with its head, in Keras
(`encoder.frozen: false`): slower than a head on the frozen encoder's vectors (head.py), rarely
better after finetune_lm's supervised phase. Also reads a Keras head on the vectors saved by an
older template (head.keras), as the arrays prediction stacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import resumable
from .core.config import Config
from .core.errors import PipelineError
from .encoder import Encoder
from .runtime import configure, keras, predict, seed_everything


def build_head(hp: dict) -> keras.Sequential:
    """The arithmetic of head.Head, as Keras layers."""
    layers: list = [keras.layers.Dropout(hp["dropout"])]
    if hp["hidden_units"]:
        layers += [keras.layers.Dense(int(hp["hidden_units"]), activation="relu"), keras.layers.Dropout(hp["dropout"])]
    layers.append(keras.layers.Dense(1, activation="sigmoid", name="score", dtype="float32"))
    return keras.Sequential(layers, name="head")


class OwnEncoder:
    """The encoder and a head trained together, on each split's tokens."""

    def __init__(self, config: Config, texts: dict[str, list[str]]):
        self.config = config
        configure(config.accelerator)
        seed_everything(config.seed)  # before any layer is made: Keras seeds each dropout layer as it is made
        self.encoder = Encoder(config.paths.encoder, config.encoder)
        self.inputs = {split: self.encoder.tokenize(split_texts) for split, split_texts in texts.items()}
        self.used = False

    def trainable(self, hp: dict, batch_size: int, weights: dict | None, seed: int) -> resumable.KerasModel:
        if self.used:  # a tuner's trial trained this copy: each model starts from the saved encoder
            seed_everything(self.config.seed)
            self.encoder = Encoder(self.config.paths.encoder, self.config.encoder)
        self.used = True
        seed_everything(seed)
        pooled = self.encoder.pooled
        model = keras.Model(pooled.input, build_head(hp)(pooled.output), name="classifier")
        model.compile(
            optimizer=keras.optimizers.Adam(float(hp["learning_rate"])),
            loss="binary_crossentropy",
            metrics=[keras.metrics.AUC(curve="PR", name="pr_auc"), keras.metrics.AUC(name="roc_auc")],
            jit_compile=self.config.accelerator.jit_compile,
        )
        return resumable.KerasModel(model, batch_size, class_weight=weights)

    def views(self) -> list[OwnEncoder]:
        """Itself: each label fine-tunes every encoder member with one head on their joined vectors."""
        return [self]

    def scores(self, trainable: resumable.KerasModel, split: str) -> np.ndarray:
        return predict(trainable.model, self.inputs[split])

    def save(self, trainable: resumable.KerasModel, directory: Path) -> str:
        trainable.model.save(directory / "model.keras")
        return "model.keras"


def head_arrays(model: keras.Model, directory: Path) -> list[np.ndarray]:
    """[mean, scale, kernel, bias, ...] of a Keras head on the vectors (standardise, then the head)."""
    try:
        standardise, layers = model.get_layer("standardise"), model.get_layer("head").layers
    except ValueError:
        layers = None
    dense = [layer for layer in layers or [] if isinstance(layer, keras.layers.Dense)]
    plain = layers and all(isinstance(layer, keras.layers.Dense | keras.layers.Dropout) for layer in layers)
    activations = [layer.activation.__name__ for layer in dense]
    if (
        not plain
        or activations != ["relu"] * (len(dense) - 1) + ["sigmoid"]
        or any(layer.dtype_policy.name != "float32" for layer in [standardise, *dense])
    ):
        raise PipelineError(f"{directory}: a head this version cannot read; run `dvc repro` to retrain it")
    mean, variance = (np.asarray(w, "float32").reshape(-1) for w in (standardise.mean, standardise.variance))
    scale = np.maximum(np.sqrt(variance), keras.backend.epsilon()).astype("float32")
    return [mean, scale] + [np.asarray(w, "float32") for layer in dense for w in (layer.kernel, layer.bias)]
