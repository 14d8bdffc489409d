"""The base encoder and its masked-LM fine-tuning on the repository's own issue text.

`language_model.base` is `scratch` (a WordPiece vocabulary and a small BERT learnt from the
corpus), a keras-hub preset name (downloaded when online), or a local directory holding a
keras-hub preset or a Hugging Face model. The output is a keras-hub preset directory (backbone
and tokenizer) that the classifiers load.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras_hub  # noqa: E402  (after runtime: it sets the backend)

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
        preprocessor = keras_hub.models.MaskedLMPreprocessor.from_preset(
            handle, sequence_length=lm.sequence_length, mask_selection_rate=lm.finetune.mask_rate
        )
        masked_lm = keras_hub.models.MaskedLM.from_preset(handle, preprocessor=preprocessor)
    except Exception as error:  # keras-hub raises many kinds; all mean "not a usable base"
        raise EncoderError(
            f"language_model.base: cannot load {lm.base!r} as a masked language model: {error}"
        ) from None
    history: dict = {}
    if lm.finetune.enabled:
        dataset = (
            tf.data.Dataset.from_tensor_slices(texts)
            .shuffle(len(texts), seed=config.seed)
            .batch(lm.finetune.batch_size)
        )  # fit() masks each batch anew with the task's preprocessor
        masked_lm.compile(
            optimizer=keras.optimizers.AdamW(lm.finetune.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
        fit = masked_lm.fit(dataset, epochs=lm.finetune.epochs, verbose=2)
        history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    masked_lm.backbone.save_to_preset(str(output))
    preprocessor.tokenizer.save_to_preset(str(output))
    (output / "finetune_history.json").write_text(json.dumps(history, indent=2) + "\n")
    return history
