"""`language_model.base` as a local folder: a keras-hub preset and a Hugging Face model, both tiny
and built here (no network), fine-tuned (masked LM, pairs, then the labels) into the encoder preset;
several members of an encoder, trained, read and predicted with as one."""

import json

import keras
import keras_hub
import numpy as np
import pytest
import yaml
from safetensors.numpy import save_file

from conftest import copy_project, package
from {{ cookiecutter.package_name }}.core.config import AcceleratorConfig, EncoderConfig, load_config
from {{ cookiecutter.package_name }}.encoder import Encoder, EncoderError, bucketed, packing, tokenize
from {{ cookiecutter.package_name }}.head import Head
from {{ cookiecutter.package_name }}.language_model import contrastive_pairs, finetune, learning_rate, supervised_output
from {{ cookiecutter.package_name }}.runtime import configure

WORDS = "the app crashes when i click save please add dark mode how do i configure proxy error docs typo".split()
VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(WORDS)]
HIDDEN, INTERMEDIATE, POSITIONS = 8, 16, 64
TEXTS = [
    "the app crashes when i click save",
    "please add dark mode",
    "how do i configure proxy",
    "typo in docs",
    "error when i save",
    "add proxy mode please",
    "how do i add docs",
    "crashes with error",
]
TARGETS = np.array([[1, 0], [0, 1], [0, 0], [0, 0], [1, 0], [0, 1], [0, 0], [1, 0]], dtype="float32")


def keras_hub_preset(folder):
    """A tiny BERT saved as a keras-hub preset (backbone and tokenizer)."""
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCABULARY), num_layers=1, num_heads=2, hidden_dim=HIDDEN,
        intermediate_dim=INTERMEDIATE, max_sequence_length=POSITIONS,
    )  # fmt: skip
    backbone.save_to_preset(str(folder))
    keras_hub.models.BertTokenizer(vocabulary=VOCABULARY, lowercase=True).save_to_preset(str(folder))
    return folder


def hugging_face_model(folder):
    """A tiny BERT in the Hugging Face layout: config.json, model.safetensors, vocab.txt."""
    folder.mkdir()
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(VOCABULARY),
        "hidden_size": HIDDEN, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": INTERMEDIATE, "max_position_embeddings": POSITIONS, "type_vocab_size": 2,
        "hidden_act": "gelu", "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "pad_token_id": 0,
    }  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "vocab.txt").write_text("\n".join(VOCABULARY) + "\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    rng = np.random.default_rng(0)
    shapes = {
        "embeddings.word_embeddings.weight": (len(VOCABULARY), HIDDEN),
        "embeddings.position_embeddings.weight": (POSITIONS, HIDDEN),
        "embeddings.token_type_embeddings.weight": (2, HIDDEN),
        "embeddings.LayerNorm.weight": (HIDDEN,),
        "embeddings.LayerNorm.bias": (HIDDEN,),
        "pooler.dense.weight": (HIDDEN, HIDDEN),
        "pooler.dense.bias": (HIDDEN,),
    }
    layer = "encoder.layer.0."
    for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
        shapes |= {f"{layer}{name}.weight": (HIDDEN, HIDDEN), f"{layer}{name}.bias": (HIDDEN,)}
    shapes |= {
        f"{layer}intermediate.dense.weight": (INTERMEDIATE, HIDDEN),
        f"{layer}intermediate.dense.bias": (INTERMEDIATE,),
        f"{layer}output.dense.weight": (HIDDEN, INTERMEDIATE),
        f"{layer}output.dense.bias": (HIDDEN,),
    }
    for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
        shapes |= {f"{layer}{norm}.weight": (HIDDEN,), f"{layer}{norm}.bias": (HIDDEN,)}
    weights = {name: (rng.standard_normal(shape) * 0.1).astype("float32") for name, shape in shapes.items()}
    save_file(weights, str(folder / "model.safetensors"))
    return folder, weights


@pytest.fixture
def config_for(tmp_path, monkeypatch, config_data, write_config):
    """The default config with `base` set, tiny training, and outputs under tmp_path."""
    monkeypatch.chdir(tmp_path)

    def make(base, masked_lm: bool, supervised: bool, contrastive: bool = False, **accelerator):
        config_data["accelerator"].update(accelerator)
        lm = config_data["language_model"]
        lm.update(base=str(base))
        lm["finetune"].update(enabled=masked_lm, epochs=1, batch_size=4)
        lm["supervised"].update(enabled=supervised, epochs=1, batch_size=4)
        lm["contrastive"].update(enabled=contrastive, batch_size=4, pairs=16)  # epochs: config.yaml's 1
        config_data["encoder"]["sequence_length"] = 16
        return load_config(write_config(config_data))

    yield make
    configure(AcceleratorConfig(mixed_precision=False, jit_compile=False))  # undo a test's GPU switches


def run_finetune(config, tmp_path, labelled=(TEXTS, TARGETS)):
    output = tmp_path / "encoder"
    output.mkdir()
    return finetune(config, TEXTS, labelled, output, tmp_path / "checkpoints"), output


LAYOUT = EncoderConfig(sequence_length=16, pooling="mean", truncation="head", frozen=True)


@pytest.mark.parametrize("kind", ["keras-hub preset", "Hugging Face"])
def test_local_base_is_fine_tuned_into_the_encoder_preset(tmp_path, config_for, kind):
    folder = tmp_path / "base"
    base = keras_hub_preset(folder) if kind == "keras-hub preset" else hugging_face_model(folder)[0]
    phases, output = run_finetune(config_for(base, masked_lm=True, supervised=True), tmp_path)
    assert set(phases) == {"masked_lm", "supervised"}
    assert phases["supervised"].examples == len(TEXTS)  # one epoch of full batches
    encoder = Encoder(output, LAYOUT)
    vectors = encoder.encode(encoder.tokenize(TEXTS[:3]))
    assert vectors.shape == (3, HIDDEN) and np.isfinite(vectors).all()
    histories = json.loads((output / "training.json").read_text())
    assert histories == {name: state.history for name, state in phases.items()}


def test_hugging_face_weights_are_the_ones_loaded(tmp_path, config_for):
    base, weights = hugging_face_model(tmp_path / "base")
    phases, output = run_finetune(config_for(base, masked_lm=False, supervised=False), tmp_path)
    assert phases == {}
    backbone = keras_hub.models.Backbone.from_preset(str(output))
    loaded = backbone.get_layer("token_embedding").embeddings.numpy()
    np.testing.assert_allclose(loaded, weights["embeddings.word_embeddings.weight"])


def test_contrastive_pairs_alternate_a_shared_label_and_none():
    pairs = contrastive_pairs(TARGETS, 40, seed=3)
    a, b, similarity = pairs["a"], pairs["b"], pairs["similarity"]
    assert len(a) == 40 and (a != b).all()
    shared = (TARGETS[a] * TARGETS[b]).sum(axis=1)
    np.testing.assert_array_equal(shared[0::2] > 0, True)  # positives share a label: similarity 1 (one label each)
    np.testing.assert_array_equal(similarity[0::2], 1.0)
    np.testing.assert_array_equal(shared[1::2], 0)  # negatives share none
    np.testing.assert_array_equal(similarity[1::2], 0.0)
    assert TARGETS[a[0::2]].any(axis=1).all()  # an issue with no label is never a positive
    assert set(np.flatnonzero(TARGETS.any(axis=1))) <= set(a)  # every labelled issue is an anchor
    again = contrastive_pairs(TARGETS, 40, seed=3)
    assert all((again[key] == pairs[key]).all() for key in pairs)  # seeded
    overlap = contrastive_pairs(np.array([[1, 1], [1, 0], [0, 1]], "float32"), 2, seed=0)
    np.testing.assert_array_equal(overlap["similarity"], [0.5, 0.0])  # |A & B| / |A | B|


def test_contrastive_phase_is_skipped_when_no_issue_differs(tmp_path, config_for):
    config = config_for(keras_hub_preset(tmp_path / "base"), masked_lm=False, supervised=False, contrastive=True)
    assert run_finetune(config, tmp_path, (TEXTS, np.ones((len(TEXTS), 1), "float32")))[0] == {}


def test_contrastive_phase_gathers_the_issues_of_a_label(tmp_path, config_for, config_data):
    """After the phase, two issues sharing a label are closer (cosine) than two that share none."""
    config_data["language_model"]["contrastive"].update(learning_rate=0.01, epochs=8)
    base = keras_hub_preset(tmp_path / "base")
    pairs = contrastive_pairs(TARGETS, 64, seed=0)

    def gap(preset) -> float:
        vectors = Encoder(preset, LAYOUT).encode(Encoder(preset, LAYOUT).tokenize(TEXTS))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        cosine = (vectors[pairs["a"]] * vectors[pairs["b"]]).sum(axis=1)
        return cosine[pairs["similarity"] > 0].mean() - cosine[pairs["similarity"] == 0].mean()

    config = config_for(base, masked_lm=False, supervised=False, contrastive=True)
    phases, output = run_finetune(config, tmp_path)
    assert set(phases) == {"contrastive"} and phases["contrastive"].examples == 8 * 16
    loss = phases["contrastive"].history["loss"]
    assert loss[-1] < loss[0]
    assert gap(output) > gap(base) + 0.1


EXCLUSIVE = np.eye(3, dtype="float32")[[0, 1, 2, 2, 0, 1, 2, 0]]  # every text has exactly one label


@pytest.mark.parametrize(
    "choice, targets, expected",
    [
        ("auto", EXCLUSIVE, "softmax"),
        ("auto", TARGETS, "sigmoid"),  # some texts have no label
        ("auto", np.ones((4, 1), dtype="float32"), "sigmoid"),  # one label: nothing to compete with
        ("softmax", TARGETS, "softmax"),
        ("sigmoid", EXCLUSIVE, "sigmoid"),
    ],
)
def test_supervised_output_is_softmax_only_for_exclusive_labels(choice, targets, expected):
    assert supervised_output(choice, targets) == expected


@pytest.mark.parametrize("targets", [EXCLUSIVE, TARGETS], ids=["exclusive labels", "labels that overlap or are absent"])
def test_softmax_phase_trains_on_any_labels(tmp_path, config_for, config_data, targets):
    config_data["language_model"]["supervised"]["output"] = "softmax"
    config = config_for(keras_hub_preset(tmp_path / "base"), False, True)
    history = run_finetune(config, tmp_path, (TEXTS, targets))[0]["supervised"].history
    assert history["loss"] and np.isfinite(history["loss"]).all()


def test_head_tail_truncation_keeps_both_ends_of_a_long_text(tmp_path):
    packer = keras_hub.models.TextClassifierPreprocessor.from_preset(
        str(keras_hub_preset(tmp_path / "base")), sequence_length=8
    )
    ids = dict(zip(VOCABULARY, range(len(VOCABULARY))))
    words = "the app crashes when i click save please add dark mode".split()  # 11 tokens, room for 6
    short = "add dark mode"
    texts = [" ".join(words), short]
    head, head_tail = (tokenize(packing(packer, cut), texts)["token_ids"] for cut in ("head", "head_tail"))
    inner = [ids[word] for word in words]
    assert head[0, 1:-1].tolist() == inner[:6]
    assert head_tail[0, 1:-1].tolist() == inner[:3] + inner[-3:]
    assert head_tail[0, 0] == ids["[CLS]"] and head_tail[0, -1] == ids["[SEP]"]
    assert head[1].tolist() == head_tail[1].tolist()  # a text that fits is not cut


@pytest.mark.parametrize("truncation", ["head", "head_tail"])
def test_no_texts_make_no_rows(tmp_path, truncation):
    """A split with no issues (a dump whose split column has no test rows) encodes to nothing."""
    preset = keras_hub_preset(tmp_path / "base")
    packer = keras_hub.models.TextClassifierPreprocessor.from_preset(str(preset), sequence_length=8)
    pack = packing(packer, truncation)
    tokens = tokenize(pack, [])
    assert tokens["token_ids"].shape == (0, 8) and set(tokens) == set(tokenize(pack, ["x"]))
    encoder = Encoder(preset, EncoderConfig(sequence_length=8, pooling="mean", truncation=truncation, frozen=True))
    assert encoder.encode(encoder.tokenize([])).shape == (0, HIDDEN)


def test_cutting_padding_to_the_longest_issue_changes_no_vector(tmp_path):
    """Prediction pads a batch to its longest issue (a power of two), not to the sequence length."""
    encoder = Encoder(keras_hub_preset(tmp_path / "base"), EncoderConfig(64, "mean", "head_tail", True))
    tokens = encoder.tokenize(["add dark mode", "the app crashes"])
    cut = {key: np.asarray(value) for key, value in bucketed(tokens, limit=64, smallest=4).items()}
    assert cut["token_ids"].shape == (2, 8) and cut["token_ids"].dtype == np.int32  # 5 tokens -> 8
    assert bucketed(tokens, limit=64)["token_ids"].shape == (2, 16)
    assert bucketed(tokens, limit=12, smallest=4)["token_ids"].shape == (2, 8)
    assert np.abs(encoder.encode(cut) - encoder.encode(tokens)).max() < 1e-6


def test_cosine_schedule_warms_up_then_decays(config_for, tmp_path):
    options = config_for(keras_hub_preset(tmp_path / "base"), True, True).language_model.supervised
    schedule = learning_rate(options, steps=100)
    rates = [float(schedule(step)) for step in (0, 5, 10, 55, 100)]
    assert rates[0] == 0 and rates[1] < rates[2] == pytest.approx(options.learning_rate)
    assert rates[2] > rates[3] > rates[4] == pytest.approx(0, abs=1e-9)


def test_gpu_switches_train_in_mixed_precision_with_xla(tmp_path, config_for, recwarn):
    config = config_for(keras_hub_preset(tmp_path / "base"), False, True, mixed_precision=True, jit_compile=True)
    phases = run_finetune(config, tmp_path)[0]
    assert np.isfinite(phases["supervised"].history["loss"]).all()
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert not [w for w in recwarn if "jit_compile" in str(w.message)], "Keras fell back from XLA"


@pytest.mark.slow
def test_members_are_encoders_of_their_own_seeds_read_as_one(trained, tmp_path):
    """`language_model.members: 2`: a second encoder from seed + 1 beside the first (which is the
    one-member encoder, unchanged), both from the one masked-LM phase, vectors side by side, each
    label's head one per member, and prediction reads the joined encoder and heads as it reads
    one; same config, same bytes."""
    changes = {"language_model.members": 2, "evaluate.baseline_weight": 0}  # predict: the classifiers' scores
    project = copy_project(trained, tmp_path / "project", **changes)
    for stage in ("finetune_lm", "train", "evaluate"):
        result = package(f"{{ cookiecutter.package_name }}.stages.{stage}", cwd=project)
        assert result.returncode == 0, f"{stage}: {result.stderr[-3000:]}"
    encoder, one = project / "models/encoder", trained / "models/encoder"
    assert (encoder / "model.weights.h5").read_bytes() == (one / "model.weights.h5").read_bytes()
    assert (encoder / "members/1/model.weights.h5").read_bytes() != (one / "model.weights.h5").read_bytes()
    phases = json.loads((project / "reports/training/finetune_lm/throughput.json").read_text())
    assert sorted(phases) == ["masked_lm", "supervised", "supervised (member 1)"]  # the masked LM once
    assert list(json.loads((encoder / "members/1/training.json").read_text())) == ["supervised"]
    config = yaml.safe_load((project / "config.yaml").read_text())
    dim = config["language_model"]["scratch"]["hidden_dim"]
    assert np.load(encoder / "vectors.npy").shape[1] == 2 * dim
    assert np.array_equal(np.load(encoder / "vectors.npy")[:, :dim], np.load(one / "vectors.npy"))
    bug = Head.load(project / "models/classifiers/bug")
    assert bug.arrays[0].shape == (2 * dim,)
    hidden = bug.arrays[2]  # block-diagonal: each member's hidden units read its own part only
    assert not hidden[:dim, hidden.shape[1] // 2 :].any() and not hidden[dim:, : hidden.shape[1] // 2].any()
    assert json.loads((project / "models/classifiers/bug/hyperparameters.json").read_text())["members"] == 2

    result = package("{{ cookiecutter.package_name }}", "predict", "data/raw/issues.jsonl", cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    scores = {json.loads(line)["number"]: json.loads(line) for line in result.stdout.splitlines()}
    saved = [json.loads(line) for line in (project / "models/classifiers/bug/scores.jsonl").read_text().splitlines()]
    assert saved
    name = config["labels"]["bug"]["name"]
    for row in saved[:20]:
        assert scores[row["number"]]["scores"][name] == pytest.approx(row["score"], abs=1e-4)

    again = copy_project(project, tmp_path / "again")
    result = package("{{ cookiecutter.package_name }}.stages.finetune_lm", cwd=again)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (again / "models/encoder/vectors.npy").read_bytes() == (encoder / "vectors.npy").read_bytes()

    (encoder / "members/1/assets/tokenizer/vocabulary.txt").write_text("[PAD]\n[UNK]\n")
    with pytest.raises(EncoderError, match="members/1: a member whose tokenizer"):
        Encoder(encoder, EncoderConfig(**config["encoder"]))


@pytest.mark.slow
def test_refit_deploys_encoders_and_heads_trained_on_train_and_val(trained, tmp_path):
    """`language_model.refit`: the members trained on train alone score val (only their vectors of
    train and val are kept); the saved encoders and heads, from the same masked-LM phase, learn
    train and val and score test, and prediction reads them."""
    changes = {"language_model.members": 2, "language_model.refit": True, "classifier.params.head": "logistic",
               "evaluate.baseline_weight": 0}  # fmt: skip
    project = copy_project(trained, tmp_path / "project", **changes)
    for stage in ("finetune_lm", "train", "evaluate"):
        result = package(f"{{ cookiecutter.package_name }}.stages.{stage}", cwd=project)
        assert result.returncode == 0, f"{stage}: {result.stderr[-3000:]}"
    phases = json.loads((project / "reports/training/finetune_lm/throughput.json").read_text())
    assert sorted(phases) == ["masked_lm", "supervised", "supervised (held out)", "supervised (member 1)",
                              "supervised (member 1, held out)"]  # fmt: skip
    rows = [json.loads(line) for line in (project / "data/processed/issues.jsonl").read_text().splitlines()]
    split = {name: [row["number"] for row in rows if row["split"] == name] for name in ("train", "val", "test")}
    encoder = project / "models/encoder"
    held_out = json.loads((encoder / "held_out/vectors.json").read_text())
    assert held_out["numbers"] == split["train"] + split["val"] and held_out["members"] == 2
    assert sorted(path.name for path in (encoder / "held_out").iterdir()) == ["vectors.json", "vectors.npy"]
    deployed = json.loads((encoder / "vectors.json").read_text())
    first = deployed["numbers"].index(split["train"][0])
    assert not np.allclose(np.load(encoder / "vectors.npy")[first], np.load(encoder / "held_out/vectors.npy")[0])
    assert json.loads((project / "models/classifiers/bug/hyperparameters.json").read_text())["refit"] is True

    result = package("{{ cookiecutter.package_name }}", "predict", "data/raw/issues.jsonl", cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    predicted = {json.loads(line)["number"]: json.loads(line)["scores"] for line in result.stdout.splitlines()}
    name = yaml.safe_load((project / "config.yaml").read_text())["labels"]["bug"]["name"]
    saved = [json.loads(line) for line in (project / "models/classifiers/bug/scores.jsonl").read_text().splitlines()]
    gaps = {part: [abs(predicted[row["number"]][name] - row["score"]) for row in saved if row["split"] == part]
            for part in ("val", "test")}  # fmt: skip
    assert max(gaps["test"]) < 1e-4  # test: the deployed model's scores
    assert max(gaps["val"]) > 1e-3  # val: the held-out model's, which prediction never reads
