"""The pipeline's training loop against a bare `model.fit` (issue #5: at least 80%).

    .venv/bin/python benchmarks/throughput.py                  # all-MiniLM-L6-v2, seq 256, batch 16
    .venv/bin/python benchmarks/throughput.py --examples 64    # quicker

The model is the supervised phase's (encoder + pooling + one sigmoid per label), the data random
token ids of full length (speed does not depend on the words). Both runs train the same number
of examples after the same warm-up (TensorFlow traces the step function once), alternately for
`--rounds` rounds, the best round of each counting; the pipeline's time is the wall time of
`resumable.fit`, checkpoint writes included.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quality import ROOT, minilm_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--sequence-length", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3, help="alternating timings; the best of each counts")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="throughput-"))
    subprocess.run([sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(workdir), str(ROOT)],
                   check=True, capture_output=True)  # fmt: skip
    sys.path.insert(0, str(workdir / "issue-triage" / "src"))
    import keras_hub
    import numpy as np
    from issue_triage import resumable
    from issue_triage.encoder import Pooling
    from issue_triage.runtime import keras, seed_everything

    def build() -> keras.Model:
        seed_everything(0)
        backbone = keras_hub.models.Backbone.from_preset(str(minilm_dir()))
        inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in backbone.input}
        pooled = Pooling("mean")(backbone(inputs)["sequence_output"], inputs["padding_mask"])
        model = keras.Model(inputs, keras.layers.Dense(3, activation="sigmoid")(pooled))
        model.compile(optimizer=keras.optimizers.AdamW(1e-4), loss="binary_crossentropy")
        return model

    rng = np.random.default_rng(0)
    n, length = args.examples, args.sequence_length
    x = {
        "token_ids": rng.integers(1000, 30000, (n, length)).astype("int32"),
        "segment_ids": np.zeros((n, length), "int32"),
        "padding_mask": np.ones((n, length), "int32"),
    }
    y = rng.integers(0, 2, (n, 3)).astype("float32")
    warm = {key: value[: args.batch_size] for key, value in x.items()}

    bare_model, pipeline_model = build(), build()
    for model in (bare_model, pipeline_model):  # trace the step function before timing
        model.fit(warm, y[: args.batch_size], batch_size=args.batch_size, verbose=0)
    bare = pipeline = 0.0
    for round_ in range(args.rounds):  # alternate, so that other load on the machine hits both alike
        start = time.perf_counter()
        bare_model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
        bare = max(bare, n / (time.perf_counter() - start))
        checkpoint = resumable.Checkpoint(workdir / f"checkpoint-{round_}", "benchmark")
        start = time.perf_counter()
        resumable.fit(pipeline_model, x, y, epochs=1, batch_size=args.batch_size, seed=0, checkpoint=checkpoint)
        pipeline = max(pipeline, n / (time.perf_counter() - start))

    print(f"MiniLM, {n} examples, batch {args.batch_size}, sequence length {length}:")
    print(f"  bare model.fit:        {bare:.2f} examples/s")
    print(f"  pipeline (resumable):  {pipeline:.2f} examples/s = {pipeline / bare:.0%} of bare (goal >= 80%)")


if __name__ == "__main__":
    main()
