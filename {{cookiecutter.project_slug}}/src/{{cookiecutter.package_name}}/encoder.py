"""Text -> vectors: the encoder as every other part uses it (keras-hub's preprocessor / backbone
split). Tokenising, packing (head or head+tail), pooling, loading a preset, and encoding the
labelled issues once for every label's head (vectors.py keeps them). Training it is
language_model.py's.

How a text becomes a vector (`encoder` in config.yaml: sequence length, pooling, truncation) is
one layout for the whole model: finetune_lm trains with it, the heads read vectors made with it,
and prediction encodes each issue once for all labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import vectors
from .core.config import EncoderConfig
from .core.errors import PipelineError
from .runtime import keras, keras_hub, predict, tf

MEMBERS = "members"  # in the encoder's folder: the other members' presets (language_model.members)


class EncoderError(PipelineError):
    """The configured base cannot be loaded; the message names it and says why."""


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


def preprocessor(handle: str, sequence_length: int):
    """The tokenizer and packer of a preset, cutting texts at `sequence_length` tokens."""
    return keras_hub.models.TextClassifierPreprocessor.from_preset(handle, sequence_length=sequence_length)


@keras.saving.register_keras_serializable(package="issue_classifier")
class Pooling(keras.layers.Layer):
    """Token vectors -> one vector per issue: the first ([CLS]) token, or the padding-masked mean."""

    def __init__(self, mode: str = "mean", **kwargs):
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, sequence, padding_mask):
        if self.mode == "cls":
            return sequence[:, 0, :]
        mask = keras.ops.expand_dims(keras.ops.cast(padding_mask, sequence.dtype), -1)
        total = keras.ops.sum(sequence * mask, axis=1)
        return total / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def pooled_model(backbone, pooling: str, model_name: str = "encoder") -> keras.Model:
    """The backbone with its token vectors pooled: one vector per issue."""
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in backbone.input}
    outputs = backbone(inputs)
    sequence = outputs["sequence_output"] if isinstance(outputs, dict) else outputs
    pooled = Pooling(pooling, name="pooling")(sequence, inputs["padding_mask"])
    return keras.Model(inputs, pooled, name=model_name)


def member_presets(preset: str | Path) -> list[Path]:
    """The presets of an encoder's members (`language_model.members`): the folder itself, then
    members/1, members/2, ... in it."""
    preset = Path(preset)
    others = [path for path in (preset / MEMBERS).glob("*") if path.is_dir() and path.name.isdigit()]
    return [preset, *sorted(others, key=lambda path: int(path.name))]


def side_by_side(backbones: list, pooling: str) -> keras.Model:
    """One pooled model of several members on the same tokens: their vectors concatenated, in order."""
    if len(backbones) == 1:
        return pooled_model(backbones[0], pooling)
    members = [pooled_model(backbone, pooling, f"member_{m}") for m, backbone in enumerate(backbones)]
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in members[0].input}
    joined = keras.layers.Concatenate(name="members")([member(inputs) for member in members])
    return keras.Model(inputs, joined, name="encoder")


def packing(packer, truncation: str = "head"):
    """texts -> token tensors (token_ids, padding_mask, ...) as the backbone takes them, as one
    TensorFlow function (traced once; tokenising eagerly costs 5 to 30 times as much). A text longer
    than the sequence is cut at its end (`head`), or in its middle (`head_tail`: the first and the
    last half of the room), which keeps the end of a long issue (often the question or the error
    message) in view."""
    pack = packer
    if truncation == "head_tail":
        keys = list(packer(tf.constant([""])))  # the inputs this backbone takes (RoBERTa: no segment_ids)
        special = int(np.asarray(packer(tf.constant([""]))["padding_mask"]).sum())  # [CLS], [SEP] or the like
        room = packer.sequence_length - special
        head, tail = room - room // 2, room // 2

        def pack(texts):
            tokens = packer.tokenizer(texts)  # ragged: one row of ids per text
            ids = tf.concat([tokens[:, :head], tokens[:, head:][:, -tail:]], axis=1)  # all of a short one
            token_ids, segment_ids = packer.packer(ids)
            packed = {"token_ids": token_ids, "padding_mask": token_ids != packer.tokenizer.pad_token_id}
            return {key: {**packed, "segment_ids": segment_ids}[key] for key in keys}

    return tf.function(pack, input_signature=[tf.TensorSpec([None], tf.string)])


def tokenize(pack, texts: list[str], chunk: int = 512) -> dict[str, np.ndarray]:
    """Token arrays of `texts` by `pack` (see packing), `chunk` texts at a time. No texts (an empty
    split): arrays of no rows."""
    if not texts:
        return {key: np.asarray(value)[:0] for key, value in pack(tf.constant([""])).items()}
    parts = [pack(tf.constant(texts[i : i + chunk])) for i in range(0, len(texts), chunk)]
    return {key: np.concatenate([np.asarray(part[key]) for part in parts]) for key in parts[0]}


def bucketed(tokens: dict, limit: int, smallest: int = 16) -> dict:
    """Token tensors cut to the length of their longest issue, rounded up to a power of two (at
    least `smallest`, at most `limit`), as int32. Cutting padding changes no vector (it is masked),
    it saves the encoder's time on short issues, and the few shapes keep the kernels set up once.
    TensorFlow ops: prediction runs it inside its function."""
    buckets = [smallest << i for i in range(max(limit // smallest, 1).bit_length()) if smallest << i < limit] + [limit]
    longest = tf.reduce_max(tf.reduce_sum(tf.cast(tokens["padding_mask"], tf.int32), axis=1))
    length = tf.reduce_min(tf.boolean_mask(tf.constant(buckets), tf.constant(buckets) >= longest))
    return {key: tf.cast(value, tf.int32)[:, :length] for key, value in tokens.items()}


class Encoder:
    """A trained encoder preset (finetune_lm's output): tokenisation and pooled issue vectors. With
    several members (`language_model.members`), an issue's vector is theirs side by side: the
    members share the tokenizer, and one function encodes with all of them."""

    def __init__(self, preset: str | Path, options: EncoderConfig):
        self.preset, self.options = Path(preset), options
        self.preprocessor = preprocessor(str(preset), options.sequence_length)
        self.pack = packing(self.preprocessor, options.truncation)
        presets = member_presets(preset)
        for other in presets[1:]:
            if _tokenizer(other) != _tokenizer(self.preset):
                raise EncoderError(f"{other}: a member whose tokenizer is not {preset}'s; run `dvc repro` to retrain")
        self.backbones = [keras_hub.models.Backbone.from_preset(str(path)) for path in presets]
        self.pooled = side_by_side(self.backbones, options.pooling)
        self.members = len(presets)

    def layout(self) -> dict:
        """How texts become vectors: saved with the vectors and with each label's model."""
        return vectors.layout(self.options)

    def tokenize(self, texts: list[str], chunk: int = 512) -> dict[str, np.ndarray]:
        """Token arrays for `texts`: computed once per split, reused by every epoch and trial."""
        return tokenize(self.pack, texts, chunk)

    def encode(self, tokens: dict[str, np.ndarray], batch_size: int = 64) -> np.ndarray:
        """Pooled vectors of tokenised issues."""
        return predict(self.pooled, tokens, batch_size)

    def save_vectors(self, numbers: list[int], texts: list[str], folder: Path | None = None, chunk: int = 4096) -> None:
        """Encode the issues once for every label's head (each would otherwise encode them all),
        `chunk` at a time: tokens and vectors of the whole corpus are never held at once. Saved
        beside the preset, or in `folder`."""
        parts = (self.encode(self.tokenize(texts[i : i + chunk])) for i in range(0, len(texts), chunk))
        dim = self.pooled.output.shape[-1]
        vectors.save(folder or self.preset, numbers, self.options, parts, dim, self.members)


def _tokenizer(preset: Path) -> tuple:
    """A preset's tokenizer, as far as it makes tokens: its settings (but the layer's name, which
    Keras numbers within a process) and its vocabulary files."""
    settings = json.loads((preset / "tokenizer.json").read_text())
    settings["config"].pop("name", None)
    assets = sorted(path for path in (preset / "assets").rglob("*") if path.is_file())
    return settings, {str(path.relative_to(preset)): path.read_bytes() for path in assets}
