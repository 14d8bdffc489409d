"""config.yaml `classifier.tuning` -> a keras-tuner search: keras-tuner's oracles choose each
trial's values, and each trial trains as the final fit does (resumable.fit, early stopping included).

Each hyperparameter has a `default_value`. It is searched only when both `tuning.tune` and
its own `tuning.tune` are true (and no per-label override fixes it); otherwise it stays fixed
at its value, so a hyperparameter given as a bare `default_value` is always valid.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras_tuner as kt

from .core.config import TuningConfig

TUNERS = {"random": kt.RandomSearch, "bayesian": kt.BayesianOptimization}  # hyperband: below


def sampling(t) -> dict:
    """The sampling given in config.yaml, else keras-tuner's own (linear)."""
    return {"sampling": t.sampling} if t.sampling else {}


def search_space(tuning: TuningConfig, values: dict[str, Any], fixed: set[str]) -> kt.HyperParameters:
    hp = kt.HyperParameters()
    for name, spec in tuning.hyperparams.items():
        t = spec.tuning
        if not (tuning.tune and t and t.tune) or name in fixed:
            hp.Fixed(name, values[name])
        elif t.param_type == "int":
            step = {"step": int(t.step)} if t.step else {}
            hp.Int(name, int(t.min), int(t.max), **step, **sampling(t), default=int(values[name]))
        elif t.param_type == "float":
            hp.Float(name, t.min, t.max, step=t.step, **sampling(t), default=float(values[name]))
        elif t.param_type == "boolean":
            hp.Boolean(name, default=bool(values[name]))
        else:
            hp.Choice(name, t.values, default=values[name] if values[name] in t.values else None)
    return hp


def search(
    trial: Callable[[dict[str, Any], int], dict[str, list[float]]],
    hp: kt.HyperParameters,
    tuning: TuningConfig,
    seed: int,
    directory: Path,
    epochs: int,
) -> tuple[dict[str, Any], list[dict]]:
    """Best hyperparameter values and every trial's values and score. `trial(values, epochs)`
    trains a model (as the final fit trains it: early stopping included) and returns its history;
    a trial scores its best epoch."""
    direction = "min" if tuning.objective.endswith("loss") else "max"
    best = min if direction == "min" else max

    def run_trial(tuner, one, *args, **kwargs) -> dict[str, float]:
        values = dict(one.hyperparameters.values)
        history = trial(values, int(values.get("tuner/epochs", epochs)))  # hyperband: its bracket's epochs
        scores = history[tuning.objective]
        at = scores.index(best(scores))
        return {name: series[at] for name, series in history.items()}

    base = kt.Hyperband if tuning.tuner == "hyperband" else TUNERS[tuning.tuner]
    tuner_class = type("Tuner", (base,), {"run_trial": run_trial})  # keras-tuner's oracle, our training
    common = dict(
        objective=kt.Objective(tuning.objective, direction=direction),
        hyperparameters=hp,
        seed=seed,
        directory=str(directory),
        project_name="search",
        overwrite=False,  # a re-run after a kill resumes the search: finished trials are kept
    )
    if tuning.tuner == "hyperband":
        tuner = tuner_class(max_epochs=epochs, **common)
    else:
        tuner = tuner_class(max_trials=tuning.max_trials, **common)
    tuner.search(verbose=0)
    trials = [
        {"trial": one.trial_id, "score": one.score, "values": one.hyperparameters.values}
        for one in tuner.oracle.get_best_trials(num_trials=len(tuner.oracle.trials))
    ]
    return tuner.get_best_hyperparameters(1)[0].values, trials
