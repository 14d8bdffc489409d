"""One binary classifier per label on the encoder: build, train (optional keras-tuner search,
then a final fit resumable after a kill, logged with dvclive), save and load.

With `encoder.frozen: true` (the default) every issue is encoded once (by finetune_lm) and a
small head is trained on the pooled vectors, which is fast and cheap. With `false`, each label
trains its own copy of the encoder with its head. Either way the label's folder holds what
prediction needs: `meta.json`, and `head.keras` or `model.keras`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
from dvclive import Live

from . import resumable
from .core import files
from .core.config import Config
from .encoder import Encoder
from .runtime import configure, keras, predict, seed_everything, tf
from .tuning import search, search_space


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


def early_stopping(patience: int) -> list:
    """The tuner's early stopping, as resumable.fit stops the final fit: `patience` epochs without a
    lower validation loss, keeping the best epoch's weights; 0: none, every epoch runs."""
    return [keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)] if patience else []


def log_history(directory: Path, history: dict[str, list[float]]) -> None:
    """Training curves for `dvc plots`, written once from the (possibly resumed) history."""
    live = Live(dir=str(directory), dvcyaml=None, save_dvc_exp=False, report=None)
    for epoch in range(len(history["loss"])):
        for name, values in history.items():
            live.log_metric(name, values[epoch])
        live.next_step()
    live.end()


def train_label(
    config: Config,
    slug: str,
    texts: dict[str, list[str]],
    numbers: dict[str, list[int]],
    targets: dict[str, np.ndarray],
    out: Path,
    logs: Path,
    checkpoints: Path,
) -> dict[str, np.ndarray]:
    """Train, save to `out` and log to `logs` one label's classifier, resumable from `checkpoints`;
    return its val and test scores."""
    params, values = config.classifier_for(slug)
    configure(config.accelerator)
    seed_everything(config.seed)
    encoder = Encoder(config.paths.encoder, config.encoder)
    if config.encoder.frozen:  # every issue encoded once (by finetune_lm), the head trains on the vectors
        inputs = {split: encoder.vectors(numbers[split], split_texts) for split, split_texts in texts.items()}
        vectors = inputs["train"]
    else:
        inputs, vectors = {split: encoder.tokenize(split_texts) for split, split_texts in texts.items()}, None
    weights = class_weights(targets["train"], params.class_weight)

    def build(hp_values: dict) -> keras.Model:
        return build_model(encoder, hp_values, vectors, config.accelerator.jit_compile)

    tuning = config.classifier.tuning
    key = resumable.fingerprint(
        dataclasses.asdict(params), dataclasses.asdict(config.encoder), values, dataclasses.asdict(tuning),
        config.seed, texts, targets["train"].tolist(), targets["val"].tolist(), Path(config.paths.encoder),
    )  # fmt: skip
    report: dict = {"tuned": False, "values": values}
    if tuning.tune:
        fixed = set(config.labels[slug].overrides)
        best, trials = search(
            lambda hp: build(hp.values), search_space(tuning, values, fixed), tuning, config.seed,
            checkpoints / f"tuner-{key}", params.epochs,
            x=inputs["train"], y=targets["train"], validation_data=(inputs["val"], targets["val"]),
            batch_size=params.batch_size, class_weight=weights, callbacks=early_stopping(params.patience),
        )  # fmt: skip
        values = {**values, **best}
        report = {"tuned": True, "tuner": tuning.tuner, "objective": tuning.objective, "values": values,
                  "trials": trials}  # fmt: skip

    seed_everything(config.seed)
    model = build(values)
    state = resumable.fit(
        model, inputs["train"], targets["train"],
        epochs=params.epochs, batch_size=params.batch_size, seed=config.seed,
        checkpoint=resumable.Checkpoint(checkpoints / "fit", key),
        every_steps=params.checkpoint_every_steps, validation=(inputs["val"], targets["val"]),
        patience=params.patience, class_weight=weights,
    )  # fmt: skip
    log_history(logs, state.history)
    files.write_json(logs / "throughput.json", state.throughput())
    meta = {"trained": True, "label": config.labels[slug].name, "frozen": config.encoder.frozen, **encoder.layout()}
    save(model, out, meta)
    files.write_json(out / "hyperparameters.json", report)
    return {split: predict(model, inputs[split]).reshape(-1) for split in ("val", "test")}


def save(model: keras.Model, directory: Path, meta: dict) -> None:
    name = "head.keras" if meta["frozen"] else "model.keras"
    model.save(directory / name)
    files.write_json(directory / "meta.json", {**meta, "model": name})


class Head:
    """A trained label folder, loaded as it was saved (predict.Predictor scores with it)."""

    def __init__(self, directory: Path):
        self.meta = json.loads((directory / "meta.json").read_text())
        self.model = keras.models.load_model(directory / self.meta["model"]) if self.meta["trained"] else None


def scorer(models: list[keras.Model]):
    """pooled vectors -> (issues, heads) scores of heads on the frozen encoder, as a few batched
    ops for all of them (fifty heads called one by one cost fifty times a dozen small ops). The
    arithmetic of build_model's layers (standardise, Dense + ReLU, Dense + sigmoid; no dropout when
    predicting), heads of the same shape stacked. A head of another shape or dtype (mixed
    precision) is called as trained."""
    weights = [_weights(model) for model in models]
    if any(w is None for w in weights):
        return lambda pooled: tf.stack([model(pooled, training=False)[:, 0] for model in models], axis=1)
    groups: dict[tuple, list[int]] = {}
    for index, arrays in enumerate(weights):
        groups.setdefault(tuple(a.shape for a in arrays), []).append(index)
    stacked = [[tf.constant(np.stack(parts)) for parts in zip(*(weights[i] for i in members))]
               for members in groups.values()]  # fmt: skip
    order = np.argsort([i for members in groups.values() for i in members])  # back to the heads' order

    def scores(pooled):
        columns = []
        for mean, scale, *dense in stacked:
            z = (pooled[None] - mean[:, None]) / scale[:, None]  # (heads, issues, features)
            for layer, (kernel, bias) in enumerate(zip(dense[::2], dense[1::2]), 1):
                z = tf.einsum("lnd,ldh->lnh", z, kernel) + bias[:, None]
                z = tf.sigmoid(z) if layer == len(dense) // 2 else tf.nn.relu(z)
            columns.append(tf.transpose(z[:, :, 0]))
        return tf.gather(tf.concat(columns, axis=1), order, axis=1)

    return scores


def _weights(model: keras.Model) -> list[np.ndarray] | None:
    """[mean, scale, kernel, bias, ...] of a head as build_model makes it, or None."""
    try:
        standardise, head = model.get_layer("standardise"), model.get_layer("head")
    except ValueError:
        return None
    dense = [layer for layer in head.layers if isinstance(layer, keras.layers.Dense)]
    others = [layer for layer in head.layers if not isinstance(layer, keras.layers.Dense | keras.layers.Dropout)]
    activations = [layer.activation.__name__ for layer in dense]
    if others or activations != ["relu"] * (len(dense) - 1) + ["sigmoid"]:
        return None
    if any(layer.dtype_policy.name != "float32" for layer in [standardise, *dense]):
        return None
    mean, variance = (np.asarray(w, "float32").reshape(-1) for w in (standardise.mean, standardise.variance))
    scale = np.maximum(np.sqrt(variance), keras.backend.epsilon()).astype("float32")
    return [mean, scale] + [np.asarray(w, "float32") for layer in dense for w in (layer.kernel, layer.bias)]
