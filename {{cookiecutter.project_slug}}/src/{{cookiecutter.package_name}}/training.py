"""Train one label's classifier: optional keras-tuner search, then the final fit, resumable
after a kill (see resumable.py) and logged with dvclive. Returns the label's val and test scores."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from dvclive import Live

from . import files, resumable
from .classifier import Encoder, build_model, class_weights, save
from .config import Config
from .runtime import configure, keras, seed_everything
from .tuning import search, search_space


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
) -> dict[str, np.ndarray]:
    params, values = config.classifier_for(slug)
    configure(config.accelerator)
    seed_everything(config.seed)
    encoder = Encoder(config.paths.encoder, params.sequence_length, params.pooling, params.truncation)
    if params.train_encoder:
        inputs, vectors = {split: encoder.tokenize(split_texts) for split, split_texts in texts.items()}, None
    else:  # frozen encoder: every issue encoded once (by finetune_lm), the head trains on the vectors
        inputs = {split: encoder.vectors(numbers[split], split_texts) for split, split_texts in texts.items()}
        vectors = inputs["train"]
    weights = class_weights(targets["train"], params.class_weight)

    def build(hp_values: dict) -> keras.Model:
        return build_model(encoder, hp_values, vectors, config.accelerator.jit_compile)

    tuning = config.classifier.tuning
    key = resumable.fingerprint(
        dataclasses.asdict(params), values, dataclasses.asdict(tuning), config.seed, texts,
        targets["train"].tolist(), targets["val"].tolist(), Path(config.paths.encoder),
    )  # fmt: skip
    checkpoint_dir = Path(config.paths.checkpoints) / "train" / slug
    report: dict = {"tuned": False, "values": values}
    if tuning.tune:
        fixed = set(config.classifier.per_label.get(slug, {}))
        stop = keras.callbacks.EarlyStopping(patience=params.patience, restore_best_weights=True)
        best, trials = search(
            lambda hp: build(hp.values), search_space(tuning, values, fixed), tuning, config.seed,
            checkpoint_dir / f"tuner-{key}", params.epochs,
            x=inputs["train"], y=targets["train"], validation_data=(inputs["val"], targets["val"]),
            batch_size=params.batch_size, class_weight=weights, callbacks=[stop],
        )  # fmt: skip
        values = {**values, **best}
        report = {"tuned": True, "tuner": tuning.tuner, "objective": tuning.objective, "values": values,
                  "trials": trials}  # fmt: skip

    seed_everything(config.seed)
    model = build(values)
    checkpoint = resumable.Checkpoint(checkpoint_dir / "fit", key)
    state = resumable.fit(
        model, inputs["train"], targets["train"],
        epochs=params.epochs, batch_size=params.batch_size, seed=config.seed, checkpoint=checkpoint,
        every_steps=params.checkpoint_every_steps, validation=(inputs["val"], targets["val"]),
        patience=params.patience, class_weight=weights,
    )  # fmt: skip
    log_history(logs, state.history)
    files.write_json(logs / "throughput.json", state.throughput())
    meta = {"trained": True, "label": config.labels[slug].name, "train_encoder": params.train_encoder,
            **encoder.layout()}  # fmt: skip
    save(model, out, meta)
    files.write_json(out / "hyperparameters.json", report)
    scores = {split: model.predict(inputs[split], batch_size=64, verbose=0).reshape(-1) for split in ("val", "test")}
    return scores
