"""One binary classifier per label: trained (an optional keras-tuner search, then a final fit
resumable after a kill, logged with dvclive), saved and loaded.

With `encoder.frozen: true` (the default) every issue is encoded once, by finetune_lm, and the
label's head (head.py, numpy) trains on those vectors: the stage never loads TensorFlow and takes
seconds. With `false`, each label fine-tunes its own copy of the encoder with its head, in Keras
(encoder_head.py). Either way the label's folder holds what prediction needs: `meta.json`, and
`head.npz` or `model.keras`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
from dvclive import Live

from . import head, resumable, vectors
from .core import files
from .core.config import Config


def class_weights(y: np.ndarray, policy: str) -> dict[int, float] | None:
    positives = int(y.sum())
    if policy == "none" or positives in (0, len(y)):
        return None
    return {0: len(y) / (2 * (len(y) - positives)), 1: len(y) / (2 * positives)}


def log_history(directory: Path, history: dict[str, list[float]]) -> None:
    """Training curves for `dvc plots`, written once from the (possibly resumed) history."""
    live = Live(dir=str(directory), dvcyaml=None, save_dvc_exp=False, report=None)
    for epoch in range(len(history["loss"])):
        for name, values in history.items():
            live.log_metric(name, values[epoch])
        live.next_step()
    live.end()


class OnVectors:
    """The frozen encoder's way: a numpy head on each issue's cached vector."""

    def __init__(self, config: Config, texts: dict[str, list[str]], numbers: dict[str, list[int]]):
        self.config = config
        self.inputs = {split: self._vectors(numbers[split], split_texts) for split, split_texts in texts.items()}

    def _vectors(self, numbers: list[int], texts: list[str]) -> np.ndarray:
        saved = vectors.read(Path(self.config.paths.encoder), numbers, self.config.encoder)
        if saved is not None:
            return saved
        from .encoder import Encoder  # not saved with this layout: encoded now, with TensorFlow

        encoder = Encoder(self.config.paths.encoder, self.config.encoder)
        return encoder.encode(encoder.tokenize(texts))

    def trainable(self, hp: dict, batch_size: int, weights: dict | None) -> head.Trainer:
        built = head.Head.build(self.inputs["train"], hp["hidden_units"], self.config.seed)
        return head.Trainer(built, float(hp["learning_rate"]), float(hp["dropout"]), batch_size, weights)

    def scores(self, trainable: head.Trainer, split: str) -> np.ndarray:
        return trainable.head.scores(self.inputs[split])

    def save(self, trainable: head.Trainer, directory: Path) -> str:
        trainable.head.save(directory)
        return head.FILE


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
    if config.encoder.frozen:
        way = OnVectors(config, texts, numbers)
    else:
        from .encoder_head import OwnEncoder  # TensorFlow loads here, only for this way

        way = OwnEncoder(config, texts)
    weights = class_weights(targets["train"], params.class_weight)

    def fit(hp: dict, epochs: int, checkpoint: resumable.Checkpoint | resumable.InMemory) -> tuple:
        model = way.trainable(hp, params.batch_size, weights)
        state = resumable.fit(
            model, way.inputs["train"], targets["train"],
            epochs=epochs, batch_size=params.batch_size, seed=config.seed, checkpoint=checkpoint,
            every_steps=params.checkpoint_every_steps, validation=(way.inputs["val"], targets["val"]),
            patience=params.patience, verbose=isinstance(checkpoint, resumable.Checkpoint),
        )  # fmt: skip
        return model, state

    tuning = config.classifier.tuning
    key = resumable.fingerprint(
        dataclasses.asdict(params), dataclasses.asdict(config.encoder), values, dataclasses.asdict(tuning),
        config.seed, texts, targets["train"].tolist(), targets["val"].tolist(), Path(config.paths.encoder),
    )  # fmt: skip
    report: dict = {"tuned": False, "values": values}
    if tuning.tune:
        from .tuning import search, search_space  # keras-tuner loads TensorFlow: only when searching

        def trial(hp: dict, epochs: int) -> dict[str, list[float]]:
            return fit(hp, epochs, resumable.InMemory())[1].history  # a killed trial re-runs: no files

        fixed = set(config.labels[slug].overrides)
        best, trials = search(trial, search_space(tuning, values, fixed), tuning, config.seed,
                              checkpoints / f"tuner-{key}", params.epochs)  # fmt: skip
        values = {**values, **best}
        report = {"tuned": True, "tuner": tuning.tuner, "objective": tuning.objective, "values": values,
                  "trials": trials}  # fmt: skip

    model, state = fit(values, params.epochs, resumable.Checkpoint(checkpoints / "fit", key))
    log_history(logs, state.history)
    files.write_json(logs / "throughput.json", state.throughput())
    name = way.save(model, out)
    meta = {"trained": True, "label": config.labels[slug].name, "frozen": config.encoder.frozen,
            **vectors.layout(config.encoder), "model": name}  # fmt: skip
    files.write_json(out / "meta.json", meta)
    files.write_json(out / "hyperparameters.json", report)
    return {split: way.scores(model, split).reshape(-1) for split in ("val", "test")}


class Saved:
    """A trained label folder, as prediction reads it: `meta`, and the head's arrays (`arrays`, on
    the frozen encoder's vectors) or the Keras model with its own encoder (`model`)."""

    def __init__(self, directory: Path):
        self.meta = json.loads((directory / "meta.json").read_text())
        self.arrays: list[np.ndarray] | None = None
        self.model = None
        if not self.meta["trained"]:
            return
        if self.meta["model"] == head.FILE:
            self.arrays = head.Head.load(directory).arrays
            return
        from .runtime import keras

        model = keras.models.load_model(directory / self.meta["model"])
        if self.meta["frozen"]:  # head.keras: a Keras head on the vectors, from an older template
            from .encoder_head import head_arrays

            self.arrays = head_arrays(model, directory)
        else:
            self.model = model

    @property
    def trained(self) -> bool:
        return self.arrays is not None or self.model is not None
