"""Train one label's classifier: optional keras-tuner search, then the final fit, logged with
dvclive. Returns the label's scores on val and test."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from dvclive import Live
from dvclive.keras import DVCLiveCallback

from . import files
from .classifier import Encoder, build_model, class_weights, save
from .config import Config
from .runtime import keras, seed_everything
from .tuning import search, search_space


def train_label(
    config: Config,
    slug: str,
    texts: dict[str, list[str]],
    targets: dict[str, np.ndarray],
    out: Path,
    logs: Path,
) -> dict[str, np.ndarray]:
    params, values = config.classifier_for(slug)
    seed_everything(config.seed)
    encoder = Encoder(config.paths.encoder, params.sequence_length, params.pooling)
    tokens = {split: encoder.tokenize(split_texts) for split, split_texts in texts.items()}
    if params.train_encoder:
        inputs, dim = tokens, 0
    else:  # frozen encoder: encode every issue once, train the head on the vectors
        inputs = {split: encoder.encode(split_tokens) for split, split_tokens in tokens.items()}
        dim = inputs["train"].shape[1]

    def build(hp_values: dict) -> keras.Model:
        return build_model(encoder, dim, hp_values, params.train_encoder)

    def fit_kwargs(extra_callbacks: list) -> dict:
        stop = keras.callbacks.EarlyStopping(patience=params.patience, restore_best_weights=True)
        return dict(
            x=inputs["train"],
            y=targets["train"],
            validation_data=(inputs["val"], targets["val"]),
            batch_size=params.batch_size,
            class_weight=class_weights(targets["train"], params.class_weight),
            callbacks=[stop, *extra_callbacks],
        )

    tuning = config.classifier.tuning
    report: dict = {"tuned": False, "values": values}
    if tuning.tune:
        fixed = set(config.classifier.per_label.get(slug, {}))
        space = search_space(tuning, values, fixed)
        with tempfile.TemporaryDirectory(prefix=f"tuner-{slug}-") as scratch:
            best, trials = search(
                lambda hp: build(hp.values), space, tuning, config.seed, Path(scratch), params.epochs, **fit_kwargs([])
            )
        values = {**values, **best}
        report = {
            "tuned": True,
            "tuner": tuning.tuner,
            "objective": tuning.objective,
            "values": values,
            "trials": trials,
        }

    seed_everything(config.seed)
    model = build(values)
    live = Live(dir=str(logs), dvcyaml=None, save_dvc_exp=False, report=None)
    model.fit(epochs=params.epochs, verbose=2, shuffle=True, **fit_kwargs([DVCLiveCallback(live=live)]))
    save(
        model,
        out,
        {
            "trained": True,
            "label": config.labels[slug].name,
            "train_encoder": params.train_encoder,
            "pooling": params.pooling,
            "sequence_length": params.sequence_length,
        },
    )
    files.write_json(out / "hyperparameters.json", report)
    return {split: model.predict(inputs[split], batch_size=64, verbose=0).reshape(-1) for split in ("val", "test")}
