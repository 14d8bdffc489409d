"""TensorFlow set-up shared by the training stages: seeds, determinism and the GPU switches; and
prediction on any number of rows."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import config as tf_config  # the public API can only enable it

__all__ = ["keras", "predict", "seed_everything", "tf", "configure"]

# Memory growth on every GPU, set at import (before TensorFlow touches one): two training stages or
# two queued experiments on one card each take what they use, not the whole card.
for _gpu in tf.config.list_physical_devices("GPU"):
    try:
        tf.config.experimental.set_memory_growth(_gpu, True)
    except RuntimeError:  # this process initialised the GPU already: its setting stands
        pass


def seed_everything(seed: int) -> None:
    """Same config, data and seed -> same weights and metrics on CPU (with `configure`)."""
    keras.utils.set_random_seed(seed)


def configure(accelerator) -> None:
    """Set up a training stage. Deterministic ops, unless `accelerator.jit_compile` (Keras does not
    XLA-compile under op determinism: XLA trades run-to-run exactness for speed).
    `accelerator.mixed_precision`: float16 compute with float32 weights (fast on GPUs with tensor
    cores, slow on CPUs); the output layers stay float32 for stable losses."""
    if accelerator.jit_compile:
        tf_config.disable_op_determinism()
    else:
        tf_config.enable_op_determinism()
    keras.mixed_precision.set_global_policy("mixed_float16" if accelerator.mixed_precision else "float32")


def predict(model: keras.Model, inputs, batch_size: int = 64) -> np.ndarray:
    """`model.predict`, which fails on no rows: none in, none out (a split without issues)."""
    rows = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
    if not rows:
        return np.zeros((0, *model.output.shape[1:]), "float32")
    return model.predict(inputs, batch_size=batch_size, verbose=0)
