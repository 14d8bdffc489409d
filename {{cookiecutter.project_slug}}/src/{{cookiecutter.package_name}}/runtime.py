"""TensorFlow set-up shared by the training stages: seeds and determinism."""

from __future__ import annotations

import keras
import tensorflow as tf

__all__ = ["keras", "seed_everything", "tf"]


def seed_everything(seed: int) -> None:
    """Same config, data and seed -> same weights and metrics on CPU."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
