"""The numpy head on the frozen encoder's vectors: the Keras head's arithmetic, resumable after a
kill to the same weights, averaged heads as one (or side by side: one per encoder member), the
two areas its tuner scores by, as scikit-learn computes them, and the logistic head,
scikit-learn's regression as a head."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import SRC, copy_project, package
from {{ cookiecutter.package_name }} import resumable
from {{ cookiecutter.package_name }}.head import Head, Trainer, average_precision, logistic, roc_auc

RNG = np.random.default_rng(0)
X = RNG.normal(size=(256, 16)).astype("float32")
Y = (X[:, 0] + RNG.normal(size=256) > 0.8).astype("float32")
WEIGHTS = {0: 0.7, 1: 1.8}


def test_it_trains_as_the_keras_head_does():
    """Same start, no dropout: Keras' Normalization, Dense layers, Adam and class-weighted loss
    reach the same losses and weights (float32 rounding apart)."""
    import keras

    head = Head.build(X, hidden_units=8, seed=0)
    start = [a.copy() for a in head.arrays]
    trainer = Trainer(head, learning_rate=0.01, dropout=0.0, batch_size=32, class_weight=WEIGHTS)
    ours = [trainer.train(X, Y, [0, epoch, 0]) for epoch in range(3)]

    inputs = keras.Input((16,))
    hidden, score = keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")
    model = keras.Model(
        inputs, score(hidden(keras.layers.Normalization(mean=start[0], variance=start[1] ** 2)(inputs)))
    )
    hidden.set_weights(start[2:4])
    score.set_weights(start[4:6])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    theirs = [
        model.fit(X, Y, batch_size=32, epochs=1, shuffle=False, class_weight=WEIGHTS, verbose=0).history["loss"][0]
        for _ in range(3)
    ]
    assert ours == pytest.approx(theirs, abs=1e-5)
    for mine, keras_weights in zip(head.arrays[2:], hidden.get_weights() + score.get_weights()):
        np.testing.assert_allclose(mine, keras_weights, atol=1e-5)
    np.testing.assert_allclose(head.scores(X), model.predict(X, verbose=0)[:, 0], atol=1e-5)
    assert trainer.evaluate(X, Y)["loss"] == pytest.approx(model.evaluate(X, Y, verbose=0), abs=1e-5)


class Killed(Exception):
    pass


def fit(folder, stop_after: int | None = None) -> tuple[Trainer, resumable.State]:
    trainer = Trainer(Head.build(X, 8, 0), 0.01, 0.3, 32, WEIGHTS)
    if stop_after is not None:
        train, calls = trainer.train, []

        def dies(*args):  # the machine goes away after `stop_after` parts of epochs
            if len(calls) == stop_after:
                raise Killed
            calls.append(1)
            return train(*args)

        trainer.train = dies
    state = resumable.fit(trainer, X, Y, epochs=6, batch_size=32, seed=7, every_steps=3, patience=2,
                          checkpoint=resumable.Checkpoint(folder, "key"), validation=(X[:64], Y[:64]))  # fmt: skip
    return trainer, state


@pytest.mark.parametrize("stop_after", [1, 4, 7])
def test_killed_and_resumed_equals_uninterrupted(tmp_path, stop_after):
    straight, expected = fit(tmp_path / "straight")
    with pytest.raises(Killed):
        fit(tmp_path / "resumed", stop_after)
    resumed, state = fit(tmp_path / "resumed")
    assert state.history == expected.history
    for mine, theirs in zip(resumed.head.arrays, straight.head.arrays):
        np.testing.assert_array_equal(mine, theirs)


def test_same_seed_same_head_and_saved_as_loaded(tmp_path):
    first, _ = fit(tmp_path / "a")
    second, _ = fit(tmp_path / "b")
    first.head.save(tmp_path)
    loaded = Head.load(tmp_path)
    np.testing.assert_array_equal(loaded.scores(X), second.head.scores(X))
    assert loaded.scores(X[:0]).shape == (0,)  # no rows: no scores


@pytest.mark.parametrize("hidden_units", [0, 8])
def test_averaged_heads_score_the_mean_of_their_logits(hidden_units):
    heads = [Head.build(X, hidden_units, seed) for seed in (1, 2, 3)]
    for head in heads:  # trained-looking weights: not zero biases
        head.arrays[2:] = [a + RNG.normal(scale=0.1, size=a.shape).astype("float32") for a in head.arrays[2:]]
    averaged = Head.average(heads)
    expected = np.mean([head.scores(X, logits=True) for head in heads], axis=0)
    np.testing.assert_allclose(averaged.scores(X, logits=True), expected, rtol=1e-5, atol=1e-5)
    assert averaged.arrays[2].shape[1] == (3 * hidden_units if hidden_units else 1)
    assert Head.average(heads[:1]) is heads[0]


def test_the_logistic_head_scores_as_scikit_learns_regression_and_a_lone_class_constantly():
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=0.5, class_weight=WEIGHTS, max_iter=5000).fit(X, Y)
    head = logistic(X, Y, 0.5, WEIGHTS)
    assert len(head.dense) == 1  # one linear layer: prediction stacks it with the other labels' heads
    np.testing.assert_allclose(head.scores(X), fitted.predict_proba(X)[:, 1], atol=1e-5)
    never, always = (logistic(X, np.full(len(X), value, "float32"), 1.0, None).scores(X) for value in (0, 1))
    assert never.max() < 1e-6 and always.min() > 1 - 1e-6


def test_areas_match_scikit_learn():
    from sklearn.metrics import average_precision_score, roc_auc_score

    scores = np.round(RNG.random(256), 1).astype("float32")  # many ties
    for y in (Y, (scores + RNG.normal(scale=0.3, size=256) > 0.7).astype("float32")):
        assert average_precision(y, scores) == pytest.approx(average_precision_score(y, scores))
        assert roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores))
    assert average_precision(np.zeros(4), scores[:4]) == 0.0 and roc_auc(np.ones(4), scores[:4]) == 0.5


# The train stage as dvc.yaml runs it; then whether TensorFlow was ever imported
WITHOUT_TENSORFLOW = """
import runpy, sys
sys.argv = ["train", "--label", "bug"]
try:
    runpy.run_module("{{ cookiecutter.package_name }}.stages.train", run_name="__main__")
finally:
    print("tensorflow imported:", "tensorflow" in sys.modules, file=sys.stderr)
"""


@pytest.mark.slow
def test_a_labels_stage_never_loads_tensorflow_and_remakes_its_outputs(trained, tmp_path):
    project = copy_project(trained, tmp_path / "project")
    result = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW], cwd=project, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.splitlines()[-1] == "tensorflow imported: False"
    for name in ("head.npz", "scores.jsonl", "meta.json"):  # same config, data and seed: the same bytes
        assert (project / "models/classifiers/bug" / name).read_bytes() == (
            trained / "models/classifiers/bug" / name
        ).read_bytes()


@pytest.mark.parametrize("hidden_units", [0, 8], ids=["linear", "one hidden layer"])
def test_heads_side_by_side_are_one_head_whose_logit_is_their_mean(hidden_units):
    """Heads on consecutive parts of a vector (one per encoder member) as one head on the whole."""
    parts = [X[:, :16], RNG.normal(size=(256, 12)).astype("float32"), RNG.normal(size=(256, 16)).astype("float32")]
    heads = [Head.build(part, hidden_units, seed) for seed, part in enumerate(parts)]
    joined = Head.side_by_side(heads)
    mean = np.mean([head.scores(part, logits=True) for head, part in zip(heads, parts)], axis=0)
    np.testing.assert_allclose(joined.scores(np.concatenate(parts, axis=1), logits=True), mean, atol=1e-5)


@pytest.mark.slow
def test_an_ensemble_of_heads_is_one_head_for_prediction(trained, tmp_path):
    """`ensemble: 3` on one label: that label alone retrains, its head holds three hidden layers
    side by side, and evaluate and predict read it as any head."""
    project = copy_project(trained, tmp_path / "project", **{"labels.bug.ensemble": 3})
    result = package("{{ cookiecutter.package_name }}.stages.train", cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 trained, " in result.stdout + result.stderr
    config = yaml.safe_load((project / "config.yaml").read_text())
    hidden = config["classifier"]["tuning"]["hyperparams"]["hidden_units"]["default_value"]
    assert Head.load(project / "models/classifiers/bug").arrays[2].shape[1] == 3 * hidden
    assert Head.load(project / "models/classifiers/question").arrays[2].shape[1] == hidden
    for command in (["{{ cookiecutter.package_name }}.stages.evaluate"],
                    ["{{ cookiecutter.package_name }}", "predict", "data/raw/issues.jsonl"]):  # fmt: skip
        result = package(*command, cwd=project)
        assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_a_logistic_head_on_one_label_is_fitted_on_train_and_read_as_any_head(trained, tmp_path):
    """`head: logistic` on one label: that label alone retrains, as one linear layer, with its `c`;
    evaluate and predict read it as any head."""
    project = copy_project(trained, tmp_path / "project", **{"labels.bug.head": "logistic", "labels.bug.c": 0.3})
    result = package("{{ cookiecutter.package_name }}.stages.train", cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 trained, " in result.stdout + result.stderr
    folder = project / "models/classifiers/bug"
    assert len(Head.load(folder).dense) == 1
    assert json.loads((folder / "hyperparameters.json").read_text()) == {"head": "logistic", "c": 0.3}
    for command in (["{{ cookiecutter.package_name }}.stages.evaluate"],
                    ["{{ cookiecutter.package_name }}", "predict", "data/raw/issues.jsonl"]):  # fmt: skip
        result = package(*command, cwd=project)
        assert result.returncode == 0, result.stderr[-3000:]
