"""One binary classifier per label: trained (an optional keras-tuner search, then a final fit
resumable after a kill, logged with dvclive), saved and loaded.

With `encoder.frozen: true` (the default) every issue is encoded once, by finetune_lm, and the
label's head (head.py, numpy) trains on those vectors, or with `classifier.params.head: logistic`
is fitted on them as a logistic regression: the stage never loads TensorFlow and takes seconds.
With `false`, each label fine-tunes its own copy of the encoder with its head, in Keras
(encoder_head.py). Either way the label's folder holds what prediction needs: `meta.json`, and
`head.npz` or `model.keras`.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import yaml
from dvclive import Live

from . import head, resumable, vectors
from .core import files
from .core.config import Config
from .core.errors import PipelineError


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
    """The frozen encoder's way: a numpy head on each issue's cached vector. With several encoder
    members (`language_model.members`) a vector is theirs side by side, and each member's head
    trains on its own part (`views`)."""

    def __init__(self, config: Config, texts: dict[str, list[str]], numbers: dict[str, list[int]]):
        self.config = config
        read = {split: self._vectors(numbers[split], split_texts) for split, split_texts in texts.items()}
        self.inputs = {split: vectors for split, (vectors, _) in read.items()}
        self.members = next(iter(read.values()))[1]
        self.refitted: OnVectors | None = None
        held_out = Path(config.paths.encoder) / vectors.HELD_OUT
        if held_out.is_dir():  # language_model.refit: val is scored by the members trained on train alone
            saved = vectors.read(held_out, numbers["train"] + numbers["val"], config.encoder)
            if saved is None:
                raise PipelineError(f"{held_out}: not the vectors of this train and val split; run `dvc repro`")
            self.refitted = copy.copy(self)  # the deployed way: the encoders trained on train and val
            self.refitted.inputs = {"train": np.concatenate([self.inputs["train"], self.inputs["val"]]),
                                    "test": self.inputs["test"]}  # fmt: skip
            cut = len(numbers["train"])
            self.inputs = {"train": saved[0][:cut], "val": saved[0][cut:]}

    def _vectors(self, numbers: list[int], texts: list[str]) -> tuple[np.ndarray, int]:
        saved = vectors.read(Path(self.config.paths.encoder), numbers, self.config.encoder)
        if saved is not None:
            return saved
        from .encoder import Encoder  # not saved with this layout: encoded now, with TensorFlow

        encoder = Encoder(self.config.paths.encoder, self.config.encoder)
        return encoder.encode(encoder.tokenize(texts)), encoder.members

    def views(self) -> list[OnVectors]:
        """One way per encoder member, on its part of the vectors (this way itself for one member)."""
        if self.members == 1:
            return [self]
        width, views = next(iter(self.inputs.values())).shape[1] // self.members, []
        for m in range(self.members):
            view = copy.copy(self)
            view.inputs = {split: x[:, m * width : (m + 1) * width] for split, x in self.inputs.items()}
            view.members = 1
            views.append(view)
        return views

    def side_by_side(self, trained: list) -> head.Fitted:
        """The members' heads as one on the whole vector (head.Head.side_by_side)."""
        return head.Fitted(head.Head.side_by_side([model.head for model in trained]))

    def trainable(self, hp: dict, batch_size: int, weights: dict | None, seed: int) -> head.Trainer:
        built = head.Head.build(self.inputs["train"], hp["hidden_units"], seed)
        return head.Trainer(built, float(hp["learning_rate"]), float(hp["dropout"]), batch_size, weights)

    def averaged(self, trained: list[head.Trainer]) -> head.Trainer:
        """The ensemble's heads as one (head.Head.average)."""
        first = trained[0]
        return head.Trainer(head.Head.average([t.head for t in trained]), first.learning_rate, first.dropout,
                            first.batch_size, first.class_weight)  # fmt: skip

    def scores(self, trainable: head.Trainer, split: str) -> np.ndarray:
        return trainable.head.scores(self.inputs[split])

    def save(self, trainable: head.Trainer, directory: Path) -> str:
        trainable.head.save(directory)
        return head.FILE


def _train_code() -> list[Path]:
    """The train stage's code files, as dvc.yaml lists them (its import closure, which
    tests/test_stage_deps.py checks); run where there is no dvc.yaml, the whole package's."""
    try:
        deps = yaml.safe_load(Path("dvc.yaml").read_text(encoding="utf-8"))["stages"]["train"]["deps"]
        sources = [Path(dep) for dep in deps if dep.startswith("src/")]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        sources = [Path(__file__).parent]
    return sorted(file for source in sources for file in ([source] if source.is_file() else source.rglob("*.py")))


def inputs_key(config: Config) -> str:
    """A digest of what every label trains from: the train stage's code, preprocess's output and
    the encoder (with its vectors)."""
    code = {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in _train_code()}
    return resumable.fingerprint(code, Path(config.paths.processed), Path(config.paths.encoder))


def label_key(config: Config, slug: str, inputs: str) -> str:
    """What one label's model is a function of (training is deterministic): `inputs_key`, its
    parameters and values, the tuning settings, the encoder's settings and the seed."""
    params, values = config.classifier_for(slug)
    return resumable.fingerprint(
        inputs, slug, dataclasses.asdict(params), values, dataclasses.asdict(config.classifier.tuning),
        dataclasses.asdict(config.encoder), config.seed,
    )  # fmt: skip


def way(config: Config, texts: dict[str, list[str]], numbers: dict[str, list[int]]):
    """How the labels train, made once for all of them: `OnVectors`, or with `encoder.frozen:
    false` each label's own encoder (encoder_head.py, which loads TensorFlow)."""
    if config.encoder.frozen:
        return OnVectors(config, texts, numbers)
    from .encoder_head import OwnEncoder

    return OwnEncoder(config, texts)


def train_label(
    config: Config, slug: str, way, targets: dict[str, np.ndarray], out: Path, logs: Path, checkpoints: Path, key: str
) -> dict[str, np.ndarray]:
    """Train, save to `out` and log to `logs` one label's classifier, resumable from `checkpoints`
    (of this `key`: label_key); return its val and test scores. With several encoder members,
    a classifier on each member's vectors, kept as one whose logit is their mean. With a refit
    (`way.refitted`), val is scored by the classifier trained on train; the one saved, which
    scores test, is fitted again on train and val, on the encoders trained on both."""
    model, state, report = _members(config, slug, way, targets, checkpoints, key)
    scores = {"val": way.scores(model, "val").reshape(-1)}
    deployed = getattr(way, "refitted", None) or way  # a label's own encoder (encoder_head) has no refit
    if deployed is not way:
        both = {"train": np.concatenate([targets["train"], targets["val"]])}
        model, report = _members(config, slug, deployed, both, checkpoints, key)[0], {**report, "refit": True}
    scores["test"] = deployed.scores(model, "test").reshape(-1)
    log_history(logs, state.history)
    files.write_json(logs / "throughput.json", state.throughput())
    _save(config, slug, way, model, out, report, key)
    return scores


def _members(config: Config, slug: str, way, targets: dict[str, np.ndarray], checkpoints: Path, key: str) -> tuple:
    """`_train` on each encoder member's view, kept as one: (the model, the first's state, the report)."""
    trained = [_train(config, slug, view, targets, checkpoints / f"member-{m}" if m else checkpoints, key)
               for m, view in enumerate(way.views())]  # fmt: skip
    model, state, report = trained[0]  # the curves and throughput are the first member's
    if len(trained) > 1:
        model, report = way.side_by_side([t[0] for t in trained]), {**report, "members": len(trained)}
    return model, state, report


def _train(config: Config, slug: str, way, targets: dict[str, np.ndarray], checkpoints: Path, key: str) -> tuple:
    """One classifier on `way`'s inputs: (the model, its training state, the hyperparameters report)."""
    params, values = config.classifier_for(slug)
    weights = class_weights(targets["train"], params.class_weight)

    def fit(hp: dict, epochs: int, checkpoint: resumable.Checkpoint | resumable.InMemory, member: int = 0) -> tuple:
        model = way.trainable(hp, params.batch_size, weights, config.seed + member)
        state = resumable.fit(
            model, way.inputs["train"], targets["train"],
            epochs=epochs, batch_size=params.batch_size, seed=config.seed + member, checkpoint=checkpoint,
            every_steps=params.checkpoint_every_steps, validation=(way.inputs["val"], targets["val"]),
            patience=params.patience, verbose=isinstance(checkpoint, resumable.Checkpoint),
        )  # fmt: skip
        return model, state

    if params.head == "logistic":  # fitted once on train: no epochs, no val, no seed
        start = time.perf_counter()
        model = head.Fitted(head.logistic(way.inputs["train"], targets["train"], params.c, weights))
        state = resumable.State(examples=len(targets["train"]), seconds=time.perf_counter() - start)
        state.history = {name: [model.evaluate(way.inputs[split], targets[split])["loss"]] for name, split in
                         (("loss", "train"), ("val_loss", "val")) if split in targets}  # fmt: skip
        return model, state, {"head": "logistic", "c": params.c}

    tuning = config.classifier.tuning
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
    if params.ensemble > 1:  # the others, each from its own seed; the curves and throughput are the first's
        others = [fit(values, params.epochs, resumable.Checkpoint(checkpoints / f"fit-{m}", key), m)[0]
                  for m in range(1, params.ensemble)]  # fmt: skip
        model = way.averaged([model, *others])
    return model, state, report


def _save(config: Config, slug: str, way, model, out: Path, report: dict, key: str) -> None:
    """Save a label's model, its meta and hyperparameters to `out`."""
    name = way.save(model, out)
    meta = {"trained": True, "label": config.labels[slug].name, "frozen": config.encoder.frozen,
            **vectors.layout(config.encoder), "model": name, "key": key}  # fmt: skip
    files.write_json(out / "meta.json", meta)
    files.write_json(out / "hyperparameters.json", report)


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
