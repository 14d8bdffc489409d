"""Fail fast, with a clear message, when TensorFlow sees no working GPU: training on the CPU of
a GPU machine would take hours and bill them. CML_ALLOW_CPU=1 skips the check (for tests on
machines without a GPU; the workflow never sets it)."""

import os
import sys


def main() -> int:
    if os.environ.get("CML_ALLOW_CPU") == "1":
        print("GPU check skipped (CML_ALLOW_CPU=1): training on CPU")
        return 0
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        print(
            "error: TensorFlow sees no GPU. Check that the machine has one (nvidia-smi), that its "
            "NVIDIA driver and container toolkit are installed, and that the job's container gets "
            "the GPUs (options: --gpus all).",
            file=sys.stderr,
        )
        return 1
    try:  # a GPU can be listed and still fail to run (driver/CUDA mismatch): run one op on it
        with tf.device("/GPU:0"):
            float(tf.reduce_sum(tf.matmul(tf.ones((64, 64)), tf.ones((64, 64)))))
    except Exception as error:  # any failure here means no usable GPU
        print(f"error: TensorFlow lists {gpus} but cannot compute on it: {error}", file=sys.stderr)
        return 1
    print(f"TensorFlow {tf.__version__} sees: {', '.join(gpu.name for gpu in gpus)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
