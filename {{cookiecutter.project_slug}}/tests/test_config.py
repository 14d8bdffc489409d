"""config.yaml validation: every mistake is a ConfigError naming its key path, what was
expected and what was found."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.core.config import ConfigError, load_config


def problems_of(path):
    """The ConfigError's messages for the config file at `path`."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def only_problem(path):
    problems = problems_of(path)
    assert len(problems) == 1, problems
    # Every message starts with the file it is about.
    assert problems[0].startswith(f"{path}: ")
    return problems[0]


def test_default_config_loads():
    default_config = load_config(Path(__file__).parents[1] / "config.yaml")
    assert default_config.labels
    assert all(label.overrides == {} for label in default_config.labels.values())
    assert default_config.import_.source == "demo"
    assert default_config.classifier.params.epochs >= 1
    # Floats are floats even when written as integers in YAML.
    assert isinstance(default_config.preprocess.val_fraction, float)
    assert default_config.evaluate.baseline_weight == "auto"


def test_a_fixed_blend_weight_loads(config_data, write_config):
    config_data["evaluate"]["baseline_weight"] = 0
    assert load_config(write_config(config_data)).evaluate.baseline_weight == 0.0


# --- one mistake each --------------------------------------------------------------------------


def set_hyperparam_tuning(data, name, **tuning):
    data["classifier"]["tuning"]["tune"] = True
    data["classifier"]["params"]["head"] = "network"  # what the search tunes
    data["classifier"]["tuning"]["hyperparams"][name]["tuning"].update(tune=True, **tuning)


def rename_label(data, old, new):
    """Replace the label slug `old` by `new`."""
    data["labels"] = {new if slug == old else slug: label for slug, label in data["labels"].items()}


def first_label(data):
    return next(iter(data["labels"]))


def override_first_label(data, **overrides):
    data["labels"][first_label(data)].update(overrides)


# (id, mutation, key path in the message, words the message must contain)
CASES = [
    (
        "unknown key with a suggestion",
        lambda d: d["classifier"]["params"].update(epoch=10),
        "classifier.params.epoch",
        ["unknown key", "did you mean 'epochs'", "expected one of"],
    ),
    (
        "unknown top-level key",
        lambda d: d.update(seeed=1),
        "seeed",
        ["unknown key", "did you mean 'seed'", "expected one of"],
    ),
    (
        "wrong type",
        lambda d: d["classifier"]["params"].update(epochs="ten"),
        "classifier.params.epochs",
        ["expected an integer", "found string 'ten'"],
    ),
    (
        "boolean is not an integer",
        lambda d: d.update(seed=True),
        "seed",
        ["expected an integer", "found boolean True"],
    ),
    (
        "zero epochs",
        lambda d: d["classifier"]["params"].update(epochs=0),
        "classifier.params.epochs",
        ["expected a value >= 1", "found 0"],
    ),
    (
        "negative epochs",
        lambda d: d["classifier"]["params"].update(epochs=-3),
        "classifier.params.epochs",
        ["expected a value >= 1", "found -3"],
    ),
    (
        "fraction above its maximum",
        lambda d: d["preprocess"].update(test_fraction=0.9),
        "preprocess.test_fraction",
        ["expected a value <= 0.5", "found 0.9"],
    ),
    (
        "tuning range with min > max",
        lambda d: set_hyperparam_tuning(d, "dropout", min=0.6, max=0.2),
        "classifier.tuning.hyperparams.dropout.tuning.min",
        ["expected a value <= max (0.2)", "found 0.6"],
    ),
    (
        "log sampling from zero",
        lambda d: set_hyperparam_tuning(d, "learning_rate", min=0.0),
        "classifier.tuning.hyperparams.learning_rate.tuning.min",
        ["expected a value > 0 with sampling 'log'", "found 0.0"],
    ),
    (
        "empty choice list",
        lambda d: set_hyperparam_tuning(d, "hidden_units", values=[]),
        "classifier.tuning.hyperparams.hidden_units.tuning.values",
        ["expected a non-empty list", "found []"],
    ),
    (
        "hyperparameter without a default value",
        lambda d: d["classifier"]["tuning"]["hyperparams"]["dropout"].pop("default_value"),
        "classifier.tuning.hyperparams.dropout.default_value",
        ["missing", "expected a value"],
    ),
    (
        "unknown tuner",
        lambda d: d["classifier"]["tuning"].update(tuner="grid"),
        "classifier.tuning.tuner",
        ["expected one of 'random', 'hyperband', 'bayesian'", "found string 'grid'"],
    ),
    (
        "list instead of a mapping",
        lambda d: d.update(baseline=[1, 2]),
        "baseline",
        ["expected a mapping", "found list [1, 2]"],
    ),
    (
        "missing section",
        lambda d: d.pop("paths"),
        "paths",
        ["missing", "expected a mapping"],
    ),
    (
        "label slug with a slash",
        lambda d: rename_label(d, first_label(d), "a/b"),
        "labels.a/b",
        ["expected a slug", "found 'a/b'"],
    ),
    (
        "label slug that climbs out of its folder",  # slugs name folders: never a path
        lambda d: rename_label(d, first_label(d), "../etc"),
        "labels.../etc",
        ["expected a slug", "found '../etc'"],
    ),
    (
        "label slug with an emoji",
        lambda d: rename_label(d, first_label(d), "bug-\U0001f41b"),
        "labels.bug-\U0001f41b",
        ["expected a slug", "found 'bug-\U0001f41b'"],
    ),
    (
        "label slug with capitals",
        lambda d: rename_label(d, first_label(d), "Bug"),
        "labels.Bug",
        ["expected a slug", "found 'Bug'"],
    ),
    (
        "unknown per-label override key",
        lambda d: override_first_label(d, epoch=3),
        "labels.<first>.epoch",
        ["unknown key", "did you mean 'epochs'", "expected one of"],
    ),
    (
        "per-label override out of bounds",
        lambda d: override_first_label(d, epochs=0),
        "labels.<first>.epochs",
        ["expected a value >= 1", "found 0"],
    ),
    (
        "per-label override of the wrong type",
        lambda d: override_first_label(d, class_weight="max"),
        "labels.<first>.class_weight",
        ["expected one of 'balanced', 'none'", "found string 'max'"],
    ),
    (
        "encoder setting for one label",  # one layout for all labels: each issue is encoded once
        lambda d: override_first_label(d, pooling="cls"),
        "labels.<first>.pooling",
        ["unknown key", "encoder settings are for all labels: set them under `encoder`"],
    ),
    (
        "averaged heads where each label fine-tunes its own encoder",
        lambda d: (d["encoder"].update(frozen=False), override_first_label(d, ensemble=2)),
        "labels.<first>.ensemble",
        ["expected 1 with encoder.frozen: false", "found 2"],
    ),
    (
        "a logistic head where each label fine-tunes its own encoder",
        lambda d: (d["encoder"].update(frozen=False), override_first_label(d, head="logistic")),
        "labels.<first>.head",
        ["expected 'network' with encoder.frozen: false", "found 'logistic'"],
    ),
    (
        "a logistic head and a hyperparameter search",
        lambda d: (d["classifier"]["params"].update(head="logistic"), d["classifier"]["tuning"].update(tune=True)),
        "classifier.params.head",
        ["expected 'network' with classifier.tuning.tune: true", "found 'logistic'"],
    ),
    (
        "a refit with network heads",  # they stop early on val, which the refitted encoder learnt
        lambda d: d["language_model"].update(refit=True),
        "classifier.params.head",
        ["expected 'logistic' with language_model.refit: true", "found 'network'"],
    ),
    (
        "a refit where each label fine-tunes its own encoder",
        lambda d: (d["language_model"].update(refit=True), d["encoder"].update(frozen=False)),
        "language_model.refit",
        ["expected false with encoder.frozen: false", "found true"],
    ),
    (
        "an unknown head",
        lambda d: d["classifier"]["params"].update(head="svm"),
        "classifier.params.head",
        ["expected one of 'network', 'logistic'", "found string 'svm'"],
    ),
    (
        "contrastive pairs of none",
        lambda d: d["language_model"]["contrastive"].update(pairs=0),
        "language_model.contrastive.pairs",
        ["expected a value >= 1", "found 0"],
    ),
    (
        "blend weight neither a number nor auto",
        lambda d: d["evaluate"].update(baseline_weight="half"),
        "evaluate.baseline_weight",
        ["expected a number or one of 'auto'", "found string 'half'"],
    ),
    (
        "blend weight above 1",
        lambda d: d["evaluate"].update(baseline_weight=1.5),
        "evaluate.baseline_weight",
        ["expected a value <= 1", "found 1.5"],
    ),
    (
        "unparsable github.until",
        lambda d: d["import"]["github"].update(until=20240630),
        "import.github.until",
        ["expected a string or a timestamp or null", "found integer 20240630"],
    ),
    (
        "baseline text option with an unknown rule",
        lambda d: d["baseline"]["text"]["options"].append({"strip_code": False}),
        "baseline.text.options[5].strip_code",
        ["unknown key; did you mean 'strip_code_blocks'?"],
    ),
    (
        "baseline text option of the wrong type",
        lambda d: d["baseline"]["text"]["options"].append({"strip_code_blocks": "maybe"}),
        "baseline.text.options[5].strip_code_blocks",
        ["expected a boolean (true/false) or one of 'marker'", "found string 'maybe'"],
    ),
    (
        "baseline text option whose title_ngrams is not a boolean",
        lambda d: d["baseline"]["text"]["options"].append({"title_ngrams": "yes"}),
        "baseline.text.options[5].title_ngrams",
        ["expected a boolean (true/false)", "found string 'yes'"],
    ),
    (
        "no baseline text option",
        lambda d: d["baseline"]["text"].update(options=[]),
        "baseline.text.options",
        ["expected at least one option", "found none"],
    ),
    (
        "missing key",
        lambda d: d["classifier"]["params"].pop("epochs"),
        "classifier.params.epochs",
        ["missing; expected an integer; the template's config.yaml has `epochs: 20`"],
    ),
    (
        "missing key of the old layout",  # before `encoder`, these were classifier.params keys
        lambda d: d.pop("encoder"),
        "encoder",
        ["missing; expected a mapping; add the `encoder` section of the template's config.yaml"],
    ),
]


@pytest.mark.parametrize(("mutate", "key", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config(config_data, write_config, mutate, key, words):
    key = key.replace("<first>", first_label(config_data))
    mutate(config_data)
    problem = only_problem(write_config(config_data))
    assert f": {key}: " in problem
    for word in words:
        assert word in problem


def test_two_labels_sharing_a_github_name(config_data, write_config):
    first, second = list(config_data["labels"])[:2]
    config_data["labels"][second]["aliases"].append(config_data["labels"][first]["name"])
    problem = only_problem(write_config(config_data))
    assert f": labels.{second}: " in problem
    assert "expected each GitHub label" in problem
    assert f"found {config_data['labels'][first]['name']!r} also under {first!r}" in problem


def test_no_labels(config_data, write_config):
    config_data["labels"] = {}
    assert ": labels: expected at least one label; found none" in only_problem(write_config(config_data))


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    problem = only_problem(path)
    assert "not found" in problem and "expected" in problem


def test_invalid_yaml(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("seed: [1, 2\nlabels: {\n", encoding="utf-8")
    assert "not valid YAML" in only_problem(path)


def test_invalid_utf8(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"seed: \xff\n")
    assert "not valid YAML" in only_problem(path)


def test_empty_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("", encoding="utf-8")
    problems = problems_of(path)
    assert any("(top level): expected a mapping; found nothing (null)" in p for p in problems)


# --- all problems at once ----------------------------------------------------------------------


def test_all_problems_reported_at_once(config_data, write_config):
    config_data["classifier"]["params"]["epochs"] = "ten"
    config_data["preprocess"]["min_examples"] = 0
    problems = problems_of(write_config(config_data))
    assert len(problems) == 2, problems
    assert any("classifier.params.epochs" in p for p in problems)
    assert any("preprocess.min_examples" in p for p in problems)


def test_all_cross_key_problems_reported_at_once(config_data, write_config):
    rename_label(config_data, first_label(config_data), "a/b")
    set_hyperparam_tuning(config_data, "dropout", min=0.6, max=0.2)
    problems = problems_of(write_config(config_data))
    assert len(problems) == 2, problems
    assert any("labels.a/b" in p for p in problems)
    assert any("hyperparams.dropout.tuning.min" in p for p in problems)


# --- per-label overrides -----------------------------------------------------------------------


def test_classifier_for_applies_overrides(config_data, write_config):
    first, second = list(config_data["labels"])[:2]
    config_data["labels"][first].update(epochs=7, class_weight="none", dropout=0.3)
    config = load_config(write_config(config_data))

    params, hyperparams = config.classifier_for(first)
    assert params.epochs == 7
    assert params.class_weight == "none"
    assert params.batch_size == config.classifier.params.batch_size  # not overridden
    assert hyperparams["dropout"] == 0.3
    assert hyperparams["learning_rate"] == config.classifier.tuning.hyperparams["learning_rate"].default_value
    assert set(hyperparams) == set(config.classifier.tuning.hyperparams)

    # Another label keeps the defaults, and the shared params are untouched.
    other_params, other_hyperparams = config.classifier_for(second)
    assert other_params == config.classifier.params
    assert other_hyperparams["dropout"] == config.classifier.tuning.hyperparams["dropout"].default_value
    assert config.classifier.params.epochs == config_data["classifier"]["params"]["epochs"]


# --- one home for every value ------------------------------------------------------------------


def leaves(data, prefix=""):
    """Dotted paths of every key holding a value (not a mapping), less the labels (user data)."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        if path == "labels":
            continue
        if isinstance(value, dict) and value:
            yield from leaves(value, f"{path}.")
        else:
            yield path


def test_every_key_is_required(config_data, write_config):
    """No value has a default in the code: config.yaml without any one key fails, naming it, except
    the keys of a hyperparameter's search space that its type does not take."""
    optional = ("step", "sampling", "values", "min", "max")
    for path in leaves(config_data):
        data = yaml.safe_load(yaml.safe_dump(config_data))
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        del node[last]
        if ".tuning.hyperparams." in path and last in optional:
            continue
        problems = problems_of(write_config(data))
        assert any(f": {path}: missing; expected" in p for p in problems), (path, problems)
