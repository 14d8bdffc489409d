"""The keras-tuner search: keras-tuner's oracles choose the values, our training runs each trial
(scored at its best epoch), and a search killed part-way resumes with its finished trials."""

import dataclasses

import pytest

from {{ cookiecutter.package_name }}.core.config import HyperparamTuning
from {{ cookiecutter.package_name }}.tuning import search, search_space


def tuning_of(default_config, tuner: str, max_trials: int = 6):
    tuning = default_config.classifier.tuning
    rate = dataclasses.replace(tuning.hyperparams["learning_rate"], tuning=HyperparamTuning(
        tune=True, param_type="float", min=0.0, max=1.0, step=None, sampling=None, values=None))  # fmt: skip
    hyperparams = {**tuning.hyperparams, "learning_rate": rate}
    return dataclasses.replace(tuning, tune=True, tuner=tuner, max_trials=max_trials, objective="val_loss",
                               hyperparams=hyperparams)  # fmt: skip


def history(values: dict, epochs: int) -> dict[str, list[float]]:
    """A trial whose best epoch (its first: later ones overfit) scores (learning_rate - 0.3)^2."""
    best = (values["learning_rate"] - 0.3) ** 2
    return {"loss": [1.0] * epochs, "val_loss": [best + epoch for epoch in range(epochs)]}


@pytest.mark.parametrize("tuner", ["random", "bayesian", "hyperband"])
def test_search_scores_trials_at_their_best_epoch(default_config, tmp_path, tuner):
    tuning = tuning_of(default_config, tuner)
    values = {name: hp.default_value for name, hp in tuning.hyperparams.items()}
    runs = []

    def trial(values, epochs):
        runs.append(epochs)
        return history(values, epochs)

    space = search_space(tuning, values, fixed={"dropout"})  # a label's own value: never searched
    best, trials = search(trial, space, tuning, 42, tmp_path, epochs=9)
    assert (
        runs
        and all(1 <= epochs <= 9 for epochs in runs)
        and (max(runs) == 9 if tuner == "hyperband" else set(runs) == {9})
    )
    scores = [t["score"] for t in trials]
    assert scores == sorted(scores)  # best first
    assert scores[0] == pytest.approx((best["learning_rate"] - 0.3) ** 2)  # the best epoch's val_loss
    assert best["dropout"] == values["dropout"] and best["hidden_units"] == values["hidden_units"]  # not tuned


def test_a_search_resumes_with_its_finished_trials(default_config, tmp_path):
    tuning = tuning_of(default_config, "random", max_trials=4)
    values = {name: hp.default_value for name, hp in tuning.hyperparams.items()}
    runs = []

    def trial(values, epochs):
        if len(runs) == 2:
            raise KeyboardInterrupt  # stopped during the third trial
        runs.append(values["learning_rate"])
        return history(values, epochs)

    space = search_space(tuning, values, set())
    with pytest.raises(KeyboardInterrupt):
        search(trial, space, tuning, 42, tmp_path, epochs=3)
    done, runs[:] = list(runs), []
    resumed = lambda values, epochs: runs.append(values["learning_rate"]) or history(values, epochs)  # noqa: E731
    _, trials = search(resumed, search_space(tuning, values, set()), tuning, 42, tmp_path, epochs=3)
    assert len(trials) == 4 and len(runs) == 2  # two finished before the stop, two after
    assert {t["values"]["learning_rate"] for t in trials} >= set(done)
