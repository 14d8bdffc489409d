"""The labelled issues' pooled vectors, saved beside the encoder by finetune_lm and read by every
label's head: one encoding of the corpus for all labels. Plain .npy (memory-mapped when read, so
a label's stage holds only the rows it uses) and .json (the issue numbers and the layout they were
encoded with); byte-identical from run to run (an .npz stamps the time). No TensorFlow here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .core.config import EncoderConfig

NAME = "vectors"  # in the encoder's folder: vectors.npy and vectors.json
HELD_OUT = "held_out"  # language_model.refit: the train-only members' vectors of train and val, in the encoder's folder


def layout(options: EncoderConfig) -> dict:
    """How texts become vectors: saved with the vectors and with each label's model."""
    return {"sequence_length": options.sequence_length, "pooling": options.pooling, "truncation": options.truncation}


def save(folder: Path, numbers: list[int], options: EncoderConfig, parts: Iterator[np.ndarray], dim: int,
         members: int = 1) -> None:  # fmt: skip
    """Write the vectors of `numbers`, given as consecutive blocks of rows (encoded in batches:
    the corpus's vectors are never all in memory at once), `dim` wide: `members` encoders' vectors
    side by side."""
    out = np.lib.format.open_memmap(folder / f"{NAME}.npy", mode="w+", dtype="float32", shape=(len(numbers), dim))
    row = 0
    for part in parts:
        out[row : row + len(part)] = part
        row += len(part)
    if row != len(numbers):
        raise ValueError(f"{row} vectors encoded for {len(numbers)} issues")
    out.flush()
    del out
    (folder / f"{NAME}.json").write_text(json.dumps({**layout(options), "members": members, "numbers": numbers}) + "\n")


def read(folder: Path, numbers: list[int], options: EncoderConfig) -> tuple[np.ndarray, int] | None:
    """The saved vectors of these issues and the number of members side by side in them, when
    they were encoded as `options` says (else None)."""
    path = folder / f"{NAME}.json"
    if not path.is_file():
        return None
    index = json.loads(path.read_text())
    row = {number: i for i, number in enumerate(index["numbers"])}
    if {key: index.get(key) for key in layout(options)} != layout(options) or any(n not in row for n in numbers):
        return None
    saved = np.load(folder / f"{NAME}.npy", mmap_mode="r")
    rows = np.asarray(saved[[row[number] for number in numbers]], "float32").reshape(len(numbers), saved.shape[1])
    return rows, index.get("members", 1)
