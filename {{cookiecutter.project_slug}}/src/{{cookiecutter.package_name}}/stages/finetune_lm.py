"""Stage finetune_lm: the base encoder, fine-tuned on the issues (masked LM, then all labels at
once) -> paths.encoder, with the labelled issues' vectors for the heads on a frozen encoder.
With `language_model.members: N`, N encoders from the one masked-LM phase, each trained on the
labels from its own seed (seed, seed + 1, ...): the others in paths.encoder/members/<m>, and an
issue's vector is theirs side by side. With `language_model.refit`, the saved encoder learns the
labels of train and val; the members trained on train alone are kept only as the vectors of the
train and val issues (paths.encoder/held_out), which score val for the choices evaluate makes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from ..core import files
from ..core.command import stage_main
from ..core.config import Config
from ..dataset import SPLITS, UNLABELLED, Processed, numbers, targets, texts
from ..vectors import HELD_OUT

NAME = "finetune_lm"


def run(config: Config) -> str:
    from ..encoder import Encoder  # TensorFlow loads here: a bad config is answered at once, before it
    from ..language_model import finetune

    data = Processed(config.paths.processed)
    unsupervised = [row for row in data.rows if row["split"] in ("train", UNLABELLED)]  # never val/test
    train, val, slugs = data.split("train"), data.split("val"), data.labels()
    refit = config.language_model.refit and bool(val)
    val = val if refit else []  # what the saved encoder learns from: train, and val with a refit
    checkpoints = Path(config.paths.checkpoints) / NAME
    held_out = checkpoints / "held-out-encoder" if refit else None  # encodes train and val, then goes
    with files.atomic_dir(config.paths.encoder) as out:
        labelled = (texts(train + val), _targets(train + val, slugs))
        also = ((texts(train), _targets(train, slugs)), held_out) if refit else None
        phases = finetune(config, texts(unsupervised), labelled, out, checkpoints, also)
        if config.encoder.frozen:  # the heads' inputs, encoded once for all labels
            rows = [row for row in data.rows if row["split"] in SPLITS]
            Encoder(out, config.encoder).save_vectors(numbers(rows), texts(rows))
            if refit:
                (out / HELD_OUT).mkdir()
                Encoder(held_out, config.encoder).save_vectors(numbers(train + val), texts(train + val), out / HELD_OUT)
    shutil.rmtree(checkpoints, ignore_errors=True)  # the encoder is in place
    with files.atomic_dir(Path(config.paths.training_logs) / NAME) as logs:
        files.write_json(logs / "throughput.json", {name: state.throughput() for name, state in phases.items()})
    trained = ", ".join(f"{name} loss {state.history['loss'][-1]:.4f}" for name, state in phases.items())
    return f"encoder from {config.language_model.base!r} saved to {config.paths.encoder} ({trained or 'not trained'})"


def _targets(rows: list[dict], slugs: list[str]) -> np.ndarray:
    """One 0/1 column per label."""
    return np.stack([targets(rows, slug) for slug in slugs], axis=1) if slugs else np.zeros((len(rows), 0))


if __name__ == "__main__":
    sys.exit(stage_main("finetune-lm", run, __doc__))
