"""TensorFlow set-up shared by the training stages: seeds, determinism and the GPU switches; and
prediction on any number of rows. The one place TensorFlow, Keras and keras-hub are imported."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

import numpy as np

__all__ = ["keras", "keras_hub", "predict", "seed_everything", "tf", "configure"]

# TensorFlow's C++ start-up lines, which no user can act on (TF_CPP_MIN_LOG_LEVEL no longer
# silences them: absl writes everything to stderr before its logging is initialised)
NOISE = re.compile(
    r"absl::InitializeLog|oneDNN custom operations are on|Could not find cuda drivers|failed call to cuInit"
    r"|rebuild TensorFlow with the appropriate compiler flags|This TensorFlow binary is optimized"
    r"|oneDNN supports DT_INT64 only|Unable to register cu(DNN|FFT|BLAS) factory|TF-TRT Warning"
)


@contextlib.contextmanager
def _without_startup_noise():
    """Run with file descriptor 2 (C++ writes there, not to sys.stderr) caught in a file; then write
    back every line but the known noise, so that real warnings and errors still show."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode(errors="replace").splitlines(True) if not NOISE.search(line)]
            sys.stderr.write("".join(kept))


with _without_startup_noise():
    import keras
    import keras_hub
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config  # the public API can only enable it

    # Memory growth on every GPU, set at import (before TensorFlow touches one): two training stages
    # or two queued experiments on one card each take what they use, not the whole card.
    for _gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(_gpu, True)
        except RuntimeError:  # this process initialised the GPU already: its setting stands
            pass
    tf.constant(1) + 1  # the first op logs the CPU's instruction sets: here, not in a stage's output


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
