"""Training that survives being killed: an explicit epoch loop with checkpoints.

Cloud runners are spot instances that vanish mid-epoch. Each training stage therefore saves,
after every epoch (and every `checkpoint_every_steps` batches when set), the model's weights
with its optimizer and dropout-RNG state, the epoch and batch reached, the history and the
early-stopping state. A re-run resumes from there and ends with the same weights as an
uninterrupted run: batch order and masking depend only on (seed, epoch), never on how many
epochs this process has seen.

Checkpoints live under `paths.checkpoints` (not a DVC output, so `dvc repro` does not delete
them before re-running a stage), are keyed by a fingerprint of everything that shapes the
result (a changed config or data starts over), and are removed once the stage's outputs are
written.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from .core.command import raise_if_stopped


def fingerprint(*parts) -> str:
    """A short hash of JSON-able parts and of files (given as Path)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            for path in sorted(part.rglob("*")) if part.is_dir() else [part]:
                if path.is_file():
                    digest.update(str(path.relative_to(part) if part.is_dir() else path.name).encode())
                    with path.open("rb") as f:  # in blocks: the vectors of a big corpus are large
                        for block in iter(lambda: f.read(1 << 20), b""):
                            digest.update(block)
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


@dataclass
class State:
    epoch: int = 0  # the epoch in progress (or the next one)
    step: int = 0  # batches of that epoch already trained
    history: dict[str, list[float]] = field(default_factory=dict)
    partial_loss: float = 0.0  # sum of the in-progress epoch's loss over its examples so far
    best: float = math.inf  # early stopping: best validation loss and epochs since
    wait: int = 0
    stopped: bool = False
    examples: int = 0  # trained on, and seconds spent in model.fit: the training throughput
    seconds: float = 0.0

    def throughput(self) -> dict:
        speed = self.examples / max(self.seconds, 1e-9)
        return {"examples": self.examples, "seconds": round(self.seconds, 3), "examples_per_second": round(speed, 2)}


class Trainable(Protocol):
    """What `fit` trains: a Keras model (`KerasModel`) or a head in numpy (head.Trainer)."""

    def weights(self) -> list: ...  # the model's variables, kept at the best epoch
    def set_weights(self, arrays: list) -> None: ...
    def state(self) -> list: ...  # and its optimizer's (and dropout RNG's): what a resume needs
    def set_state(self, arrays: list) -> None: ...
    def train(self, x, y, seed: list[int]) -> float: ...  # one pass in full batches: the mean loss
    def evaluate(self, x, y) -> dict[str, float]: ...


class KerasModel:
    """A compiled Keras model as `fit` trains it: its own `fit` on each part of an epoch.
    `make_dataset(x_part, seed)` turns a part into what Keras takes, when `x` is not arrays
    (masked-LM text, masked anew each epoch)."""

    def __init__(self, model, batch_size: int, class_weight: dict | None = None, make_dataset: Callable | None = None):
        self.model, self.batch_size, self.class_weight, self.make_dataset = (
            model,
            batch_size,
            class_weight,
            make_dataset,
        )

    def weights(self) -> list:
        return [v.numpy() for v in self.model.variables]

    def set_weights(self, arrays: list) -> None:
        _assign(self.model.variables, arrays)

    def _variables(self) -> list:
        if not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        return list(self.model.variables) + list(self.model.optimizer.variables)

    def state(self) -> list:
        return [v.numpy() for v in self._variables()]

    def set_state(self, arrays: list) -> None:
        _assign(self._variables(), arrays)

    def train(self, x, y, seed: list[int]) -> float:
        if self.make_dataset is not None:
            result = self.model.fit(self.make_dataset(x, seed), epochs=1, shuffle=False, verbose=0)
        else:
            result = self.model.fit(x, y, batch_size=self.batch_size, epochs=1, shuffle=False,
                                    class_weight=self.class_weight, verbose=0)  # fmt: skip
        return result.history["loss"][-1]

    def evaluate(self, x, y) -> dict[str, float]:
        return self.model.evaluate(x, y, batch_size=self.batch_size, verbose=0, return_dict=True)


def _assign(variables: list, arrays: list) -> None:
    for variable, array in zip(variables, arrays, strict=True):
        variable.assign(array)


HISTORY = "history."  # a checkpoint's arrays of the per-epoch figures: history.loss, history.val_loss, ...


class Checkpoint:
    """One stage's checkpoint folder. `checkpoint.npz` holds the training state and every array
    of the model and its optimizer (dropout RNG states included: Keras weight files leave those
    out) in one file, so that a kill can never pair the state of one step with the weights of
    another. `best.npz` holds the model's weights at the best validation loss; it is written
    before the state that refers to it."""

    def __init__(self, directory: str | Path, key: str):
        self.directory = Path(directory)
        self.key = key
        self.path = self.directory / "checkpoint.npz"

    def load(self, model: Trainable) -> State:
        if not self.path.is_file():
            return State()
        try:
            with np.load(self.path) as saved:
                meta = json.loads(str(saved["meta"]))
                arrays = _arrays(saved)
                history = {name.removeprefix(HISTORY): saved[name].tolist() for name in saved.files
                           if name.startswith(HISTORY)}  # fmt: skip
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:  # a damaged file: no resume point
            print(f"checkpoint {self.path} is unreadable ({error}): starting over", file=sys.stderr)
            self.clear()
            return State()
        if meta["key"] != self.key:
            print(f"checkpoint in {self.directory} is for another config or data: starting over", file=sys.stderr)
            self.clear()
            return State()
        model.set_state(arrays)
        state = State(**{"history": history, **meta["state"]})  # an older checkpoint's history is in its meta
        print(f"resuming from {self.path}: epoch {state.epoch + 1}, batch {state.step}", file=sys.stderr)
        return state

    def save(self, model: Trainable, state: State, best: bool = False) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if best:
            _save(self.directory / "best.npz", model.weights())
        meta = {"key": self.key, "state": {k: v for k, v in asdict(state).items() if k != "history"}}
        # the history as arrays, not JSON: a checkpoint after every batch of a long run spent its time
        # encoding every epoch's figures again (at 5,000 epochs, ten times a save's time: quadratic)
        history = {HISTORY + name: np.asarray(values, "float64") for name, values in state.history.items()}
        _save(self.path, model.state(), meta=meta, named=history)

    def restore_best(self, model: Trainable) -> None:
        best = self.directory / "best.npz"
        if best.is_file():
            with np.load(best) as saved:
                model.set_weights(_arrays(saved))

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class InMemory:
    """No checkpoint files: the best epoch's weights kept in memory (a tuner's trial, which a kill
    restarts: keras-tuner keeps the finished ones)."""

    def __init__(self):
        self.best: list | None = None

    def load(self, model: Trainable) -> State:
        return State()

    def save(self, model: Trainable, state: State, best: bool = False) -> None:
        if best:
            self.best = model.weights()

    def restore_best(self, model: Trainable) -> None:
        if self.best is not None:
            model.set_weights(self.best)


def _arrays(saved) -> list[np.ndarray]:
    return [saved[f"arr_{i}"] for i in range(len([name for name in saved.files if name.startswith("arr_")]))]


def _save(path: Path, arrays: list, meta: dict | None = None, named: dict | None = None) -> None:
    """Written beside `path` and renamed into place: the old checkpoint or the new, never half."""
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    extra = {"meta": np.array(json.dumps(meta))} if meta is not None else {}
    extra.update(named or {})
    try:
        np.savez(tmp, *arrays, **extra)
        tmp.replace(path)
    except BaseException as error:  # a full disk, a stop: the previous checkpoint stands, no temporary file
        tmp.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)
        raise


def _take(x, index: np.ndarray):
    return {key: value[index] for key, value in x.items()} if isinstance(x, dict) else x[index]


def _length(x) -> int:
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def fit(
    model: Trainable,
    x,
    y: np.ndarray | None,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    checkpoint: Checkpoint | InMemory,
    every_steps: int = 0,
    validation: tuple | None = None,
    patience: int | None = None,
    verbose: bool = True,
) -> State:
    """Train `model`, resuming from `checkpoint`; return the final state (its `history`: per epoch).

    Each epoch visits the examples in an order drawn from (seed, epoch), in full batches. With
    `validation` and `patience` > 0, training stops after `patience` epochs without a lower
    validation loss and the best epoch's weights are kept; `patience` 0 (or None): every epoch
    runs and the last epoch's weights are kept, as without Keras' EarlyStopping. `verbose`: a
    line per epoch.
    """
    state = checkpoint.load(model)
    n = _length(x)
    # Full batches only (each epoch leaves out up to batch_size - 1 examples, others each epoch):
    # a second, smaller batch shape makes TensorFlow trace a second function whose kernels round
    # differently, so a resumed process would drift from an uninterrupted one in the last bits.
    batches = max(1, n // batch_size)
    per_epoch = min(n, batches * batch_size)
    chunk = every_steps or batches
    while state.epoch < epochs and not state.stopped:
        order = np.random.default_rng([seed, state.epoch]).permutation(n)
        while state.step < batches:
            end = min(state.step + chunk, batches)
            index = order[state.step * batch_size : end * batch_size]
            started = time.perf_counter()
            loss = model.train(_take(x, index), None if y is None else y[index], [seed, state.epoch, state.step])
            raise_if_stopped()  # before saving: a stopped stage leaves its last checkpoint, not this step's
            state.seconds += time.perf_counter() - started
            state.examples += len(index)
            state.partial_loss += loss * len(index)
            state.step = end
            if state.step < batches:
                checkpoint.save(model, state)
        record = {"loss": state.partial_loss / per_epoch}
        if validation is not None:
            record.update({f"val_{key}": value for key, value in model.evaluate(*validation).items()})
        for key, value in record.items():
            state.history.setdefault(key, []).append(float(value))
        if verbose:
            print(f"epoch {state.epoch + 1}/{epochs}: " + ", ".join(f"{k} {v:.4f}" for k, v in record.items()))
        improved = validation is not None and record["val_loss"] < state.best
        if validation is not None:
            state.best, state.wait = (record["val_loss"], 0) if improved else (state.best, state.wait + 1)
            state.stopped = bool(patience) and state.wait >= patience
        state.epoch, state.step, state.partial_loss = state.epoch + 1, 0, 0.0
        checkpoint.save(model, state, best=improved)
    if validation is not None and patience:
        checkpoint.restore_best(model)
    return state
