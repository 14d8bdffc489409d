"""The base encoder and its masked-LM fine-tuning on the repository's own issue text.

`language_model.base` is `scratch` (a WordPiece vocabulary and a small BERT learnt from the
corpus), a keras-hub preset name (downloaded when online), or a local directory holding a
keras-hub preset or a Hugging Face model. The output is a keras-hub preset directory (backbone
and tokenizer) that the classifiers load.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import keras_hub
import numpy as np

from . import resumable
from .errors import PipelineError
from .runtime import keras, seed_everything, tf

RESERVED_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


class EncoderError(PipelineError):
    """The configured base cannot be loaded; the message names it and says why."""


def scratch_preset(texts: list[str], lm, directory: Path, seed: int) -> None:
    """Learn a vocabulary from `texts`, build a small BERT and save both as a preset."""
    seed_everything(seed)
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(texts).batch(256),
        vocabulary_size=lm.scratch.vocabulary_size,
        lowercase=True,
        reserved_tokens=RESERVED_TOKENS,
    )
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    s = lm.scratch
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=s.num_layers,
        num_heads=s.num_heads,
        hidden_dim=s.hidden_dim,
        intermediate_dim=s.intermediate_dim,
        max_sequence_length=max(lm.sequence_length, 512),
    )
    backbone.save_to_preset(str(directory))
    tokenizer.save_to_preset(str(directory))


def resolve_base(base: str) -> str:
    """A keras-hub preset handle: a local directory as an absolute path, else a preset name."""
    if "://" in base:  # hf://, kaggle://
        return base
    path = Path(base).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if path.exists() or "/" in base or base.startswith((".", "~")):
        raise EncoderError(
            f"language_model.base: {base!r} is not a directory; expected 'scratch', "
            "a keras-hub preset name, or a folder holding a preset or a Hugging Face model"
        )
    return base


def mask_tokens(packed: dict[str, np.ndarray], tokenizer, rate: float, rng: np.random.Generator) -> tuple:
    """BERT-style masking: of each issue's ordinary tokens, `rate` are chosen; 80% of those become
    [MASK], 10% a random token, 10% stay. Done with numpy from `rng`, so that it is reproducible
    (keras-hub's masker keeps random state that a resumed process cannot restore)."""
    token_ids, length = packed["token_ids"], packed["token_ids"].shape[1]
    selections = max(1, math.ceil(length * rate * 1.5))
    eligible = packed["padding_mask"].astype(bool) & ~np.isin(token_ids, tokenizer.special_token_ids)
    chosen = eligible & (rng.random(token_ids.shape) < rate)
    masked = token_ids.copy()
    positions = np.zeros((len(token_ids), selections), "int32")
    targets = np.zeros((len(token_ids), selections), "int32")
    weights = np.zeros((len(token_ids), selections), "float32")
    for row in range(len(token_ids)):
        cols = np.flatnonzero(chosen[row])
        if len(cols) > selections:
            cols = np.sort(rng.choice(cols, selections, replace=False))
        positions[row, : len(cols)], targets[row, : len(cols)], weights[row, : len(cols)] = (
            cols,
            token_ids[row, cols],
            1,
        )
        draw = rng.random(len(cols))
        masked[row, cols[draw < 0.8]] = tokenizer.mask_token_id
        swapped = cols[(draw >= 0.8) & (draw < 0.9)]
        masked[row, swapped] = rng.integers(tokenizer.vocabulary_size(), size=len(swapped))
    return {**packed, "token_ids": masked, "mask_positions": positions}, targets, weights


def finetune(config, texts: list[str], output: Path) -> dict:
    """Write the (fine-tuned) encoder preset to `output`; return the training history."""
    lm = config.language_model
    if lm.base == "scratch":
        scratch_preset(texts, lm, output, config.seed)
        handle = str(output)
    else:
        handle = resolve_base(lm.base)
    seed_everything(config.seed)
    try:
        packer = keras_hub.models.TextClassifierPreprocessor.from_preset(handle, sequence_length=lm.sequence_length)
        masked_lm = keras_hub.models.MaskedLM.from_preset(handle, preprocessor=None)
    except Exception as error:  # keras-hub raises many kinds; all mean "not a usable base"
        reason = " ".join(str(error).split())  # one line: some of keras-hub's messages are lists
        message = f"language_model.base: cannot load {lm.base!r} as a masked language model: {reason}"
        raise EncoderError(message) from None
    history: dict = {}
    if lm.finetune.enabled:
        tokens = tokenize(packer, texts)  # once; each epoch masks them anew

        def batches(index: np.ndarray, seed: list[int]) -> tf.data.Dataset:
            part = {key: value[index] for key, value in tokens.items()}
            masked = mask_tokens(part, packer.tokenizer, lm.finetune.mask_rate, np.random.default_rng(seed))
            return tf.data.Dataset.from_tensor_slices(masked).batch(lm.finetune.batch_size)

        masked_lm.compile(
            optimizer=keras.optimizers.AdamW(lm.finetune.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
        key = resumable.fingerprint(dataclasses.asdict(lm), config.seed, texts)
        history = resumable.fit(
            masked_lm, np.arange(len(texts)), None,
            epochs=lm.finetune.epochs, batch_size=lm.finetune.batch_size, seed=config.seed,
            checkpoint=resumable.Checkpoint(Path(config.paths.checkpoints) / "finetune_lm", key),
            every_steps=lm.finetune.checkpoint_every_steps, make_dataset=batches,
        ).history  # fmt: skip
    masked_lm.backbone.save_to_preset(str(output))
    packer.tokenizer.save_to_preset(str(output))
    _drop_save_date(output)
    (output / "finetune_history.json").write_text(json.dumps(history, indent=2) + "\n")
    return history


def _drop_save_date(preset: Path) -> None:
    """keras-hub stamps metadata.json with the time of saving, and never reads it back. Without the
    stamp the same config and data make a byte-identical encoder: a re-made one (a cloud run that
    lost its machine) still matches the classifiers' checkpoints, and DVC sees the same output."""
    path = preset / "metadata.json"
    if path.is_file():
        metadata = json.loads(path.read_text())
        metadata.pop("date_saved", None)
        path.write_text(json.dumps(metadata, indent=4) + "\n")


def tokenize(packer, texts: list[str], chunk: int = 512) -> dict[str, np.ndarray]:
    """Token arrays (token_ids, padding_mask, ...) of `texts`, as the backbone takes them."""
    parts = [packer(tf.constant(texts[i : i + chunk])) for i in range(0, len(texts), chunk)]
    return {key: np.concatenate([np.asarray(part[key]) for part in parts]) for key in parts[0]}
