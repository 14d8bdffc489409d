"""Stage finetune_lm: the base encoder, fine-tuned on the issues (masked LM, then all labels at
once) -> paths.encoder, with the labelled issues' vectors for the heads on a frozen encoder.
With `language_model.members: N`, N encoders from the one masked-LM phase, each trained on the
labels from its own seed (seed, seed + 1, ...): the others in paths.encoder/members/<m>, and an
issue's vector is theirs side by side."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from ..core import files
from ..core.command import stage_main
from ..core.config import Config
from ..dataset import SPLITS, UNLABELLED, Processed, numbers, targets, texts

NAME = "finetune_lm"


def run(config: Config) -> str:
    from ..encoder import Encoder  # TensorFlow loads here: a bad config is answered at once, before it
    from ..language_model import finetune

    data = Processed(config.paths.processed)
    unsupervised = [row for row in data.rows if row["split"] in ("train", UNLABELLED)]  # never val/test
    train = data.split("train")
    slugs = data.labels()
    y = np.stack([targets(train, slug) for slug in slugs], axis=1) if slugs else np.zeros((len(train), 0))
    checkpoints = Path(config.paths.checkpoints) / NAME
    with files.atomic_dir(config.paths.encoder) as out:
        phases = finetune(config, texts(unsupervised), (texts(train), y), out, checkpoints)
        if config.encoder.frozen:  # the heads' inputs, encoded once for all labels
            labelled = [row for row in data.rows if row["split"] in SPLITS]
            Encoder(out, config.encoder).save_vectors(numbers(labelled), texts(labelled))
    shutil.rmtree(checkpoints, ignore_errors=True)  # the encoder is in place
    with files.atomic_dir(Path(config.paths.training_logs) / NAME) as logs:
        files.write_json(logs / "throughput.json", {name: state.throughput() for name, state in phases.items()})
    trained = ", ".join(f"{name} loss {state.history['loss'][-1]:.4f}" for name, state in phases.items())
    return f"encoder from {config.language_model.base!r} saved to {config.paths.encoder} ({trained or 'not trained'})"


if __name__ == "__main__":
    sys.exit(stage_main("finetune-lm", run, __doc__))
