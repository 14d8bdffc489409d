"""TensorFlow set-up shared by the training stages: seeds, determinism and the GPU switches."""

from __future__ import annotations

import keras
import tensorflow as tf
from tensorflow.python.framework import config as tf_config  # the public API can only enable it

__all__ = ["keras", "seed_everything", "tf", "configure"]


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
