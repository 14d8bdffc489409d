"""The resumable training loop's early stopping (the tuner's trials train with it too): `patience`
epochs without a lower validation loss stop training (the best epoch's weights kept); 0 means none."""

import keras
import numpy as np

from {{ cookiecutter.package_name }} import resumable

RNG = np.random.default_rng(0)
X, Y = RNG.normal(size=(64, 4)).astype("float32"), RNG.integers(0, 2, size=64).astype("float32")
VALIDATION = (RNG.normal(size=(16, 4)).astype("float32"), 1 - Y[:16])  # unrelated to train: it gets worse


def fit(tmp_path, patience, epochs=5):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy")
    checkpoint = resumable.Checkpoint(tmp_path / f"patience-{patience}", "key")
    state = resumable.fit(resumable.KerasModel(model, 16), X, Y, epochs=epochs, batch_size=16, seed=0,
                          checkpoint=checkpoint, validation=VALIDATION, patience=patience)  # fmt: skip
    return state, model


def test_patience_zero_runs_every_epoch(tmp_path):
    state, _ = fit(tmp_path, patience=0)
    assert len(state.history["loss"]) == 5 and not state.stopped


def test_patience_stops_after_that_many_epochs_without_improvement(tmp_path):
    state, _ = fit(tmp_path, patience=1, epochs=20)
    losses = state.history["val_loss"]
    assert state.stopped and len(losses) < 20
    assert losses[-1] >= min(losses[:-1])  # the last epoch did not improve on the best
