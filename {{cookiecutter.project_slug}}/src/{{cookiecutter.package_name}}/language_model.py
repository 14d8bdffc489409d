"""Training the encoder: masked-LM fine-tuning on the repository's own issue text, then pairs of
labelled issues pulled together or apart (contrastive, SetFit's recipe), then the labels all at
once (supervised); each phase can be switched off. Using the encoder (tokenising, pooling,
loading) is encoder.py's.

`language_model.base` is `scratch` (a WordPiece vocabulary and a small BERT learnt from the
corpus), a keras-hub preset name (downloaded when online), or a local directory holding a
keras-hub preset or a Hugging Face model. The output is a keras-hub preset directory (backbone
and tokenizer) that the classifiers load.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import numpy as np

from . import resumable
from .encoder import MEMBERS, EncoderError, packing, pooled_model, preprocessor, resolve_base, tokenize
from .runtime import configure, keras, keras_hub, seed_everything, tf

RESERVED_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# The masked-LM phase does not use the backbone's pooled ([CLS]) layer, so it has no gradient: as
# designed, and nothing a user can change
warnings.filterwarnings("ignore", message="Gradients do not exist for variables .*pooled_dense", category=UserWarning)


def scratch_preset(texts: list[str], lm, sequence_length: int, directory: Path, seed: int) -> None:
    """Learn a vocabulary from `texts` (at most `vocabulary_issues` of them, evenly spaced), build a
    small BERT and save both as a preset."""
    seed_everything(seed)
    if len(texts) > lm.scratch.vocabulary_issues:
        texts = [texts[i] for i in np.linspace(0, len(texts) - 1, lm.scratch.vocabulary_issues).round().astype(int)]
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
        max_sequence_length=max(sequence_length, 512),
    )
    backbone.save_to_preset(str(directory))
    tokenizer.save_to_preset(str(directory))


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


def learning_rate(options, steps: int):
    """The configured schedule over `steps` optimizer steps: constant, or linear warmup then cosine decay."""
    if options.schedule == "constant":
        return options.learning_rate
    warmup = int(steps * options.warmup_fraction)
    if warmup == 0:
        return keras.optimizers.schedules.CosineDecay(options.learning_rate, max(1, steps))
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, steps - warmup), warmup_target=options.learning_rate, warmup_steps=warmup
    )


def _steps(options, examples: int) -> int:
    return options.epochs * max(1, examples // options.batch_size)  # resumable.fit runs full batches only


def finetune_masked_lm(config, masked_lm, packer, texts: list[str], checkpoints: Path) -> resumable.State:
    """Domain adaptation: masked-LM training on the repository's own issue text."""
    options = config.language_model.finetune
    tokens = tokenize(packing(packer), texts)  # once; each epoch masks them anew

    def batches(index: np.ndarray, seed: list[int]) -> tf.data.Dataset:
        part = {key: value[index] for key, value in tokens.items()}
        masked = mask_tokens(part, packer.tokenizer, options.mask_rate, np.random.default_rng(seed))
        return tf.data.Dataset.from_tensor_slices(masked).batch(options.batch_size)

    masked_lm.compile(
        optimizer=keras.optimizers.AdamW(learning_rate(options, _steps(options, len(texts)))),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=config.accelerator.jit_compile,
    )
    lm = config.language_model
    key = resumable.fingerprint(
        lm.base, config.encoder.sequence_length, dataclasses.asdict(lm.scratch), dataclasses.asdict(options),
        config.seed, texts,
    )  # fmt: skip
    return resumable.fit(
        resumable.KerasModel(masked_lm, options.batch_size, make_dataset=batches), np.arange(len(texts)), None,
        epochs=options.epochs, batch_size=options.batch_size, seed=config.seed,
        checkpoint=resumable.Checkpoint(checkpoints / "masked_lm", key),
        every_steps=options.checkpoint_every_steps,
    )  # fmt: skip


def finetune_supervised(
    config, backbone, handle: str, texts: list[str], targets: np.ndarray, checkpoints: Path
) -> resumable.State:
    """Task adaptation: the encoder learns every label at once on the train split, pooled as the
    classifiers pool it. Heads on the frozen encoder then separate the labels well, and cheaply:
    one encoder training for all labels instead of one per label."""
    options, layout = config.language_model.supervised, config.encoder
    seed_everything(config.seed)
    tokens = tokenize(packing(preprocessor(handle, layout.sequence_length), layout.truncation), texts)
    encoder = pooled_model(backbone, layout.pooling)
    activation = supervised_output(options.output, targets)
    output = keras.layers.Dense(targets.shape[1], activation=activation, dtype="float32")
    scores = output(keras.layers.Dropout(options.dropout)(encoder.output))
    model = keras.Model(encoder.input, scores, name="supervised")
    if activation == "softmax":
        # One distribution over the labels; an issue with several shares its weight among them,
        # one with none adds no loss.
        targets = targets / np.maximum(targets.sum(axis=1, keepdims=True), 1)
        loss, accuracy = "categorical_crossentropy", keras.metrics.CategoricalAccuracy(name="accuracy")
    else:
        loss, accuracy = "binary_crossentropy", keras.metrics.BinaryAccuracy(name="accuracy")
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate(options, _steps(options, len(texts)))),
        loss=loss,
        metrics=[accuracy],
        jit_compile=config.accelerator.jit_compile,
    )
    key = _labelled_key(config, texts, targets)
    return resumable.fit(
        resumable.KerasModel(model, options.batch_size), tokens, targets,
        epochs=options.epochs, batch_size=options.batch_size, seed=config.seed,
        checkpoint=resumable.Checkpoint(checkpoints / "supervised", key),
        every_steps=options.checkpoint_every_steps,
    )  # fmt: skip


def contrastive_pairs(targets: np.ndarray, pairs: int, seed: int) -> dict[str, np.ndarray]:
    """`pairs` pairs of issues (rows of `targets`, 0/1 per label) as SetFit draws them: the anchors
    cycle through the issues in a seeded order; every other pair shares a label with its anchor
    (similarity: the labels' overlap, |A & B| / |A | B|, 1 for one label each), the rest share none
    (similarity 0). An issue with no label is only ever a negative; a pair that cannot be drawn
    (no other issue shares or avoids the anchor's labels) is drawn for the next anchor."""
    rng = np.random.default_rng([seed, len(targets)])
    has = targets.astype(bool)
    members = [np.flatnonzero(column) for column in has.T]
    order = rng.permutation(len(targets))
    a, b, similarity = [], [], []
    for step in range(pairs * 4):  # a bound: every anchor may fail to find a partner
        if len(a) == pairs:
            break
        anchor, positive = int(order[step % len(order)]), len(a) % 2 == 0
        own = np.flatnonzero(has[anchor])
        if positive:
            if not len(own):
                continue
            candidates = members[int(rng.choice(own))]
            candidates = candidates[candidates != anchor]
        else:
            candidates = np.flatnonzero(~(has[:, own].any(axis=1))) if len(own) else np.flatnonzero(has.any(axis=1))
        if not len(candidates):
            continue
        other = int(rng.choice(candidates))
        union = (has[anchor] | has[other]).sum()
        a.append(anchor), b.append(other)
        similarity.append((has[anchor] & has[other]).sum() / union if positive else 0.0)
    return {"a": np.array(a, "int64"), "b": np.array(b, "int64"), "similarity": np.array(similarity, "float32")}


def _labelled_key(config, texts: list[str], targets: np.ndarray) -> str:
    """What a phase that learns from the labels is a function of: its resume checkpoint's key."""
    return resumable.fingerprint(
        dataclasses.asdict(config.language_model), dataclasses.asdict(config.encoder), config.seed, texts,
        targets.tolist(),
    )  # fmt: skip


def finetune_contrastive(
    config, backbone, handle: str, texts: list[str], targets: np.ndarray, checkpoints: Path
) -> resumable.State | None:
    """Similarity learning (SetFit): the cosine similarity of two issues' pooled vectors is trained
    towards their labels' overlap, so that issues with a label gather and the heads separate them
    from few examples. None: not both kinds of pair could be drawn (every issue has the one label,
    or none has any), and pulling all issues together would only erase what they differ in."""
    options, layout = config.language_model.contrastive, config.encoder
    seed_everything(config.seed)
    pairs = contrastive_pairs(targets, options.pairs, config.seed)
    if len(set((pairs["similarity"] > 0).tolist())) < 2:
        return None
    tokens = tokenize(packing(preprocessor(handle, layout.sequence_length), layout.truncation), texts)
    encoder = pooled_model(backbone, layout.pooling)
    inputs = {f"{side}_{name}": keras.Input(shape=(None,), dtype="int32", name=f"{side}_{name}")
              for side in "ab" for name in encoder.input}  # fmt: skip
    pooled = [encoder({name: inputs[f"{side}_{name}"] for name in encoder.input}) for side in "ab"]
    u, v = (keras.ops.normalize(keras.ops.cast(vector, "float32")) for vector in pooled)
    model = keras.Model(inputs, keras.ops.sum(u * v, axis=-1), name="contrastive")
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate(options, _steps(options, len(pairs["a"])))),
        loss="mean_squared_error",  # SetFit's CosineSimilarityLoss
        jit_compile=config.accelerator.jit_compile,
    )

    def batches(part: dict[str, np.ndarray], seed: list[int]) -> tf.data.Dataset:
        features = {f"{side}_{name}": value[part[side]] for side in "ab" for name, value in tokens.items()}
        return tf.data.Dataset.from_tensor_slices((features, part["similarity"])).batch(options.batch_size)

    key = _labelled_key(config, texts, targets)
    return resumable.fit(
        resumable.KerasModel(model, options.batch_size, make_dataset=batches), pairs, None,
        epochs=options.epochs, batch_size=options.batch_size, seed=config.seed,
        checkpoint=resumable.Checkpoint(checkpoints / "contrastive", key),
        every_steps=options.checkpoint_every_steps,
    )  # fmt: skip


def supervised_output(choice: str, targets: np.ndarray) -> str:
    """`auto`: softmax when the labels are mutually exclusive (every train issue carries exactly
    one), as in bug/feature/question triage; sigmoid (each label on its own) otherwise."""
    if choice != "auto":
        return choice
    exclusive = targets.shape[1] > 1 and bool((targets.sum(axis=1) == 1).all())
    return "softmax" if exclusive else "sigmoid"


def finetune(
    config, texts: list[str], labelled: tuple[list[str], np.ndarray], output: Path, checkpoints: Path,
    held_out: tuple[tuple[list[str], np.ndarray], Path] | None = None,
) -> dict[str, resumable.State]:  # fmt: skip
    """Write the fine-tuned encoder preset to `output`: masked-LM training on `texts`, then
    contrastive and supervised training on `labelled` (texts, one 0/1 column per label), each if
    enabled, resumable from `checkpoints`. With `language_model.members: N` the masked-LM phase runs
    once and N encoders start from it, member m's later phases from seed + m (output/members/<m>):
    it adapts the base to the repository's text, which is the same for every member. `held_out`
    (labelled issues, a folder): the members trained again from the same masked-LM phase on those
    (train alone, where `labelled` is train and val: `language_model.refit`), into that folder.
    Returns the final training state of each phase trained (history, throughput)."""
    lm = config.language_model
    configure(config.accelerator)
    if lm.base == "scratch":
        scratch_preset(texts, lm, config.encoder.sequence_length, output, config.seed)
        handle = str(output)
    else:
        handle = resolve_base(lm.base)
    seed_everything(config.seed)
    packer, masked_lm = _masked_lm(handle, lm.base, config.encoder.sequence_length)
    phases: dict[str, resumable.State] = {}
    if lm.finetune.enabled:
        phases["masked_lm"] = finetune_masked_lm(config, masked_lm, packer, texts, checkpoints)
    start = masked_lm.backbone.get_weights() if lm.members > 1 or held_out else None
    runs = [(labelled, output, "")] + ([(*held_out, "held out")] if held_out else [])
    for data, root, run in runs:
        for m in range(lm.members):
            folder, member = root, config
            if m:
                folder, member = root / MEMBERS / str(m), dataclasses.replace(config, seed=config.seed + m)
            folder.mkdir(parents=True, exist_ok=True)
            if m or run:  # a model of its own, from the adapted weights
                masked_lm = _masked_lm(handle, lm.base, config.encoder.sequence_length)[1]
                masked_lm.backbone.set_weights(start)
            own = checkpoints / run.replace(" ", "-") / (f"member-{m}" if m else "")
            trained = _task_phases(member, masked_lm.backbone, handle, data, own)
            tag = ", ".join(([f"member {m}"] if m else []) + ([run] if run else []))
            phases.update({(f"{name} ({tag})" if tag else name): state for name, state in trained.items()})
            masked_lm.backbone.save_to_preset(str(folder))
            packer.tokenizer.save_to_preset(str(folder))
            _drop_save_date(folder)
            own_phases = trained if m or run else phases  # the first member's are the masked LM's too
            histories = {name: state.history for name, state in own_phases.items()}  # no timings:
            (folder / "training.json").write_text(json.dumps(histories, indent=2) + "\n")  # a re-made one is identical
    return phases


def _masked_lm(handle: str, base: str, sequence_length: int):
    """The base's preprocessor and masked language model, or a clear error."""
    try:
        return preprocessor(handle, sequence_length), keras_hub.models.MaskedLM.from_preset(handle, preprocessor=None)
    except Exception as error:  # keras-hub raises many kinds; all mean "not a usable base"
        reason = " ".join(str(error).split())  # one line: some of keras-hub's messages are lists
        raise EncoderError(f"language_model.base: cannot load {base!r} as a masked language model: {reason}") from None


def _task_phases(config, backbone, handle: str, labelled: tuple[list[str], np.ndarray], checkpoints: Path) -> dict:
    """The phases that learn from the labels, each if enabled and there are labels."""
    lm, phases = config.language_model, {}
    if lm.contrastive.enabled and labelled[1].size:
        state = finetune_contrastive(config, backbone, handle, *labelled, checkpoints)
        if state is not None:
            phases["contrastive"] = state
    if lm.supervised.enabled and labelled[1].size:
        phases["supervised"] = finetune_supervised(config, backbone, handle, *labelled, checkpoints)
    return phases


def _drop_save_date(preset: Path) -> None:
    """keras-hub stamps metadata.json with the time of saving, and never reads it back. Without the
    stamp the same config and data make a byte-identical encoder: a re-made one (a cloud run that
    lost its machine) still matches the classifiers' checkpoints, and DVC sees the same output."""
    path = preset / "metadata.json"
    if path.is_file():
        metadata = json.loads(path.read_text())
        metadata.pop("date_saved", None)
        path.write_text(json.dumps(metadata, indent=4) + "\n")
