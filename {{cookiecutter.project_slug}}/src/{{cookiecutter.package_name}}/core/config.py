"""Load config.yaml into typed, validated objects.

Problems are reported together, each naming its key path, what was expected and what was
found: first every key and type problem, then (once those are fixed) every rule that spans
several keys. The dataclasses below are the schema: their field names are the keys, their type
hints the expected types, and `field(metadata=)` the bounds. They hold no defaults: config.yaml
holds every value, once, and a missing key is an error naming the value to add (from the
template's config.yaml, `reference_config.yaml` in the package). Only keys marked `optional` may
be left out.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
GITHUB_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+")


def parse_time(value: str | datetime) -> str:
    """An ISO 8601 date or timestamp (UTC when it names no zone) in GitHub's form, 2024-06-30T00:00:00Z;
    ValueError when it is not one."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if not isinstance(value, datetime):
        raise ValueError(f"not a timestamp: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ConfigError(Exception):
    """config.yaml is invalid; `problems` holds one message per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class GithubImport:
    repo: str
    api_url: str
    until: str | date | None  # a date: an unquoted timestamp, which DVC cannot read (see _check_import)
    page_size: int = field(metadata={"min": 1, "max": 100})
    cache_dir: str
    timeout_seconds: float = field(metadata={"min_exclusive": 0})
    max_retries: int = field(metadata={"min": 0})
    backoff_seconds: float = field(metadata={"min": 0})


@dataclass(frozen=True)
class ImportConfig:
    source: Literal["demo", "file", "github"]
    github: GithubImport
    demo_issues: int = field(metadata={"min": 10})
    file: str
    test_file: str | None
    repo_filter: str | None


@dataclass(frozen=True)
class Label:
    name: str
    aliases: list[str]
    # every other key under the label: its own value of a `classifier.params` key or a hyperparameter
    overrides: dict[str, Any] = field(metadata={"rest": True})


@dataclass(frozen=True)
class TextConfig:
    lowercase: bool
    strip_html_comments: bool
    strip_details: bool
    strip_code_blocks: bool | Literal["marker"]  # marker: each block becomes the word CODE_MARKER (text.py)
    strip_images: bool
    strip_links: bool
    strip_template_headings: bool
    strip_version_lines: bool
    max_chars: int = field(metadata={"min": 1})


@dataclass(frozen=True)
class PreprocessConfig:
    text: TextConfig
    min_examples: int = field(metadata={"min": 1})
    bots: list[str]
    val_fraction: float = field(metadata={"min": 0.01, "max": 0.5})
    test_fraction: float = field(metadata={"min": 0.01, "max": 0.5})


@dataclass(frozen=True)
class EncoderConfig:
    """How an issue's text becomes a vector: what finetune_lm trains and every label's head reads."""

    sequence_length: int = field(metadata={"min": 8})
    pooling: Literal["cls", "mean"]
    truncation: Literal["head", "head_tail"]
    frozen: bool


@dataclass(frozen=True)
class ScratchEncoder:
    vocabulary_size: int = field(metadata={"min": 100})
    vocabulary_issues: int = field(metadata={"min": 1})
    num_layers: int = field(metadata={"min": 1})
    num_heads: int = field(metadata={"min": 1})
    hidden_dim: int = field(metadata={"min": 2})
    intermediate_dim: int = field(metadata={"min": 1})


@dataclass(frozen=True)
class EncoderTraining:
    """What the encoder training phases share: length, batches and learning-rate schedule."""

    enabled: bool
    epochs: int = field(metadata={"min": 1})
    batch_size: int = field(metadata={"min": 1})
    learning_rate: float = field(metadata={"min_exclusive": 0})
    schedule: Literal["constant", "cosine"]
    warmup_fraction: float = field(metadata={"min": 0, "max": 0.5})
    checkpoint_every_steps: int = field(metadata={"min": 0})


@dataclass(frozen=True)
class FinetuneConfig(EncoderTraining):
    mask_rate: float = field(metadata={"min_exclusive": 0, "max": 0.9})


@dataclass(frozen=True)
class ContrastiveConfig(EncoderTraining):
    pairs: int = field(metadata={"min": 1})


@dataclass(frozen=True)
class SupervisedConfig(EncoderTraining):
    dropout: float = field(metadata={"min": 0, "max": 0.9})
    output: Literal["auto", "sigmoid", "softmax"]


@dataclass(frozen=True)
class LanguageModelConfig:
    base: str
    members: int = field(metadata={"min": 1})  # encoders from one masked LM, then each its seed: side by side
    refit: bool  # the deployed encoders and heads trained again on train and val, once val is scored
    scratch: ScratchEncoder
    finetune: FinetuneConfig
    contrastive: ContrastiveConfig
    supervised: SupervisedConfig


@dataclass(frozen=True)
class ClassifierParams:
    head: Literal["network", "logistic"]  # trained by gradient (hyperparams) | a logistic regression fitted on train
    c: float = field(metadata={"min_exclusive": 0})  # the logistic head's inverse regularisation strength
    epochs: int = field(metadata={"min": 1})
    batch_size: int = field(metadata={"min": 1})
    patience: int = field(metadata={"min": 0})  # 0: no early stopping
    class_weight: Literal["balanced", "none"]
    ensemble: int = field(metadata={"min": 1})  # heads averaged, each from its own seed
    checkpoint_every_steps: int = field(metadata={"min": 0})


@dataclass(frozen=True)
class HyperparamTuning:
    tune: bool
    param_type: Literal["int", "float", "boolean", "choice"]
    # the range (int, float) or the choices: only the keys the type takes are given
    min: float | None = field(metadata={"optional": True})
    max: float | None = field(metadata={"optional": True})
    step: float | None = field(metadata={"optional": True, "min_exclusive": 0})
    sampling: Literal["linear", "log", "reverse_log"] | None = field(metadata={"optional": True})
    values: list[Any] | None = field(metadata={"optional": True})


@dataclass(frozen=True)
class Hyperparam:
    default_value: Any
    tuning: HyperparamTuning | None = field(metadata={"optional": True})  # absent: never searched


@dataclass(frozen=True)
class TuningConfig:
    hyperparams: dict[str, Hyperparam]
    tune: bool
    tuner: Literal["random", "hyperband", "bayesian"]
    objective: Literal["val_pr_auc", "val_roc_auc", "val_loss"]
    max_trials: int = field(metadata={"min": 1})


@dataclass(frozen=True)
class ClassifierConfig:
    """One binary classifier per label: training params and the keras-tuner search."""

    params: ClassifierParams
    tuning: TuningConfig


@dataclass(frozen=True)
class BaselineConfig:
    """TF-IDF n-grams + logistic regression per label: the baseline every model must beat."""

    ngram_max: int = field(metadata={"min": 1, "max": 3})
    min_df: int = field(metadata={"min": 1})
    max_features: int | None = field(metadata={"min": 1})
    c: float = field(metadata={"min_exclusive": 0})
    refit: bool
    text: BaselineText


@dataclass(frozen=True)
class BaselineText:
    """The baseline's own text rules, chosen per repository by cross-validation on train: each
    option overrides preprocess.text's keys, and may add the title's own n-grams (TITLE_NGRAMS)."""

    folds: int = field(metadata={"min": 2})
    max_issues: int = field(metadata={"min": 10})
    max_labels: int = field(metadata={"min": 1})
    options: list[dict[str, Any]]


def _share(**metadata):
    return field(metadata={"min": 0, "max": 1, **metadata})


@dataclass(frozen=True)
class Minimums:
    """Test metrics a model must reach (null: no minimum)."""

    precision: float | None = _share()
    recall: float | None = _share()
    f1: float | None = _share()
    average_precision: float | None = _share()


@dataclass(frozen=True)
class LabelMinimums:
    """One label's own minimums: only the metrics it names."""

    precision: float | None = _share(optional=True)
    recall: float | None = _share(optional=True)
    f1: float | None = _share(optional=True)
    average_precision: float | None = _share(optional=True)


@dataclass(frozen=True)
class GatesConfig:
    """What the deployed model must reach on test to be promoted: on the macro average, on every
    label, and a label's own minimums (over every_label's)."""

    macro: Minimums
    every_label: Minimums
    per_label: dict[str, LabelMinimums]


@dataclass(frozen=True)
class EvaluateConfig:
    """How thresholds are chosen on val, how much of the baseline prediction blends in (`auto`:
    the weight that scores best on val), and the gates of promotion."""

    threshold_policy: Literal["max_f1", "target_precision"]
    target_precision: float = field(metadata={"min": 0, "max": 1})
    baseline_weight: float | Literal["auto"] = field(metadata={"min": 0, "max": 1})
    gates: GatesConfig
    max_regression: float = field(metadata={"min": 0, "max": 1})


@dataclass(frozen=True)
class LabelTarget:
    target_precision: float = field(metadata={"min": 0.5, "max": 0.95})


@dataclass(frozen=True)
class MonitorConfig:
    days: int = field(metadata={"min": 1})
    margin: float = field(metadata={"min": 0, "max": 1})
    min_applied: int = field(metadata={"min": 1})


@dataclass(frozen=True)
class LabelConfig:
    """The `label` command: which labels the promoted model applies on GitHub, and how."""

    target_precision: float = field(metadata={"min": 0.5, "max": 0.95})
    per_label: dict[str, LabelTarget]
    max_labels: int = field(metadata={"min": 1})
    default_label: str | None
    skip_labelled: bool
    mode: Literal["apply", "comment"]
    actor: str
    state_file: str
    first_sweep_days: int = field(metadata={"min": 0})
    monitor: MonitorConfig

    def target(self, slug: str) -> float:
        own = self.per_label.get(slug)
        return own.target_precision if own else self.target_precision


@dataclass(frozen=True)
class ServeConfig:
    """The `serve` command: where it listens and how much a request may carry."""

    host: str
    port: int = field(metadata={"min": 1, "max": 65535})
    max_batch: int = field(metadata={"min": 1})
    max_request_bytes: int = field(metadata={"min": 1024})


@dataclass(frozen=True)
class AcceleratorConfig:
    """GPU switches of the training stages."""

    mixed_precision: bool
    jit_compile: bool


@dataclass(frozen=True)
class PathsConfig:
    """Where each stage writes (relative to the project)."""

    raw: str
    processed: str
    encoder: str
    classifiers: str
    baseline: str
    training_logs: str
    metrics: str
    predictions: str
    thresholds: str
    plots: str
    report: str
    checkpoints: str
    promoted: str
    monitor: str


@dataclass(frozen=True)
class Config:
    seed: int
    import_: ImportConfig
    labels: dict[str, Label]
    preprocess: PreprocessConfig
    encoder: EncoderConfig
    language_model: LanguageModelConfig
    classifier: ClassifierConfig
    baseline: BaselineConfig
    evaluate: EvaluateConfig
    label: LabelConfig
    serve: ServeConfig
    accelerator: AcceleratorConfig
    paths: PathsConfig

    def label_slugs(self) -> list[str]:
        return list(self.labels)

    def classifier_for(self, slug: str) -> tuple[ClassifierParams, dict[str, Any]]:
        """The training params and hyperparameter values of one label, its overrides applied."""
        overrides = self.labels[slug].overrides
        params = dataclasses.replace(
            self.classifier.params,
            **{k: v for k, v in overrides.items() if k in _field_names(ClassifierParams)},
        )
        values = {name: hp.default_value for name, hp in self.classifier.tuning.hyperparams.items()}
        values.update({k: v for k, v in overrides.items() if k in values})
        return params, values


# --- the generic part: mapping YAML data onto the dataclasses above --------------------------

_KEY_ALIASES = {"import_": "import"}  # Python keywords cannot be field names


_ENCODER_KEYS = ("sequence_length", "pooling", "truncation", "frozen", "train_encoder")
# The template's config.yaml as generated: never read for values, only to say what a missing key
# should be (a template update that adds keys merges them into config.yaml; see the README).
REFERENCE = Path(__file__).parents[1] / "reference_config.yaml"  # beside the package, not a code dep


def _reference(path: str) -> str:
    """`; the template's config.yaml has `key: value``, for the dotted `path`, if it has one."""
    try:
        node = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
        for key in path.split("."):
            node = node[key]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return ""
    if isinstance(node, dict):
        return f"; add the `{path}` section of the template's config.yaml ({REFERENCE.name} in {REFERENCE.parent})"
    value = yaml.safe_dump({path.rsplit(".", 1)[-1]: node}, default_flow_style=True, allow_unicode=True, width=1000)
    return f"; the template's config.yaml has `{value.strip()[1:-1]}`"


def _key(name: str) -> str:
    return _KEY_ALIASES.get(name, name)


def _field_names(cls) -> list[str]:
    return [_key(f.name) for f in dataclasses.fields(cls)]


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}
    return f"{kind.get(type(value), type(value).__name__)} {value!r}" if not isinstance(value, dict) else "a mapping"


def _expected(tp) -> str:
    if tp is Any:
        return "a value"
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_expected(a) for a in typing.get_args(tp))
    if origin in (list, dict):
        return {list: "a list", dict: "a mapping"}[origin]
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {
        bool: "a boolean (true/false)",
        int: "an integer",
        float: "a number",
        str: "a string",
        date: "a timestamp",
        type(None): "null",
    }.get(tp, str(tp))


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '(top level)'}: {message}")

    def read(self, tp, value: Any, path: str) -> Any:
        origin = typing.get_origin(tp)
        if tp is Any:
            return value
        if dataclasses.is_dataclass(tp):
            return self.read_dataclass(tp, value, path)
        if origin in (typing.Union, types.UnionType):
            options = typing.get_args(tp)
            if value is None and type(None) in options:
                return None
            inner = [o for o in options if o is not type(None)]
            if len(inner) == 1:
                return self.read(inner[0], value, path)
            for option in inner:  # the first that reads it without a problem
                trial = _Reader()
                read = trial.read(option, value, path)
                if not trial.problems:
                    return read
            self.fail(path, f"expected {_expected(tp)}; found {_describe(value)}")
            return value
        if origin is Literal:
            if value not in typing.get_args(tp):
                self.fail(path, f"expected {_expected(tp)}; found {_describe(value)}")
            return value
        if origin is list:
            if not isinstance(value, list):
                self.fail(path, f"expected a list; found {_describe(value)}")
                return []
            (item,) = typing.get_args(tp)
            return [self.read(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
        if origin is dict:
            if not isinstance(value, dict):
                self.fail(path, f"expected a mapping; found {_describe(value)}")
                return {}
            _, item = typing.get_args(tp)
            return {str(k): self.read(item, v, f"{path}.{k}") for k, v in value.items()}
        ok = {
            bool: isinstance(value, bool),
            int: isinstance(value, int) and not isinstance(value, bool),
            float: isinstance(value, (int, float)) and not isinstance(value, bool),
            str: isinstance(value, str),
        }.get(tp, isinstance(value, tp))  # another class (a date): an instance of it
        if not ok:
            self.fail(path, f"expected {_expected(tp)}; found {_describe(value)}")
            return value
        return float(value) if tp is float else value

    def read_dataclass(self, cls, data: Any, path: str):
        fields = dataclasses.fields(cls)
        if not isinstance(data, dict):  # one problem: not each of its keys missing
            self.fail(path, f"expected a mapping; found {_describe(data)}")
            return cls(**{f.name: None for f in fields})
        rest = next((f.name for f in fields if f.metadata.get("rest")), None)
        names = [_key(f.name) for f in fields if f.name != rest]
        if rest is None:
            self.unknown_keys(data, names, path)
        hints = typing.get_type_hints(cls)
        values = {}
        for f in fields:
            key, sub = _key(f.name), f"{path}.{_key(f.name)}".lstrip(".")
            if f.name == rest:
                values[f.name] = {str(k): v for k, v in data.items() if k not in names}  # checked by the caller
            elif key not in data:
                if not f.metadata.get("optional"):
                    self.fail(sub, f"missing; expected {_expected(hints[f.name])}{_reference(sub)}")
                values[f.name] = None
            else:
                value = self.read(hints[f.name], data[key], sub)
                self.check_bounds(f, value, sub)
                values[f.name] = value
        return cls(**values)

    def unknown_keys(self, data: dict, names: list[str], path: str) -> None:
        for key in data:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.fail(f"{path}.{key}".lstrip("."), f"unknown key; {hint}expected one of {', '.join(names)}")

    def check_bounds(self, f: dataclasses.Field, value: Any, path: str) -> None:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return
        bounds = f.metadata
        if "min" in bounds and value < bounds["min"]:
            self.fail(path, f"expected a value >= {bounds['min']}; found {value!r}")
        if "min_exclusive" in bounds and value <= bounds["min_exclusive"]:
            self.fail(path, f"expected a value > {bounds['min_exclusive']}; found {value!r}")
        if "max" in bounds and value > bounds["max"]:
            self.fail(path, f"expected a value <= {bounds['max']}; found {value!r}")


# --- rules that span several keys -------------------------------------------------------------


def _check_labels(config: Config, reader: _Reader) -> None:
    if not config.labels:
        reader.fail("labels", "expected at least one label; found none")
    owner: dict[str, str] = {}
    for slug, label in config.labels.items():
        if not SLUG.fullmatch(slug):
            reader.fail(
                f"labels.{slug}",
                f"expected a slug of lowercase letters, digits and single '-' (it names a folder); found {slug!r}",
            )
        for name in [label.name, *label.aliases]:
            if name in owner and owner[name] != slug:
                reader.fail(
                    f"labels.{slug}",
                    "expected each GitHub label (name or alias) under one slug; "
                    f"found {name!r} also under {owner[name]!r}",
                )
            owner[name] = slug
        _check_overrides(config, slug, label.overrides, reader)


def _check_overrides(config: Config, slug: str, overrides: dict, reader: _Reader) -> None:
    """A label's own values: keys of `classifier.params` and hyperparameters, as they are typed there."""
    params = {_key(f.name): f for f in dataclasses.fields(ClassifierParams)}
    allowed = ["name", "aliases", *params, *config.classifier.tuning.hyperparams]
    for key, value in overrides.items():
        path = f"labels.{slug}.{key}"
        if key in params:
            reader.read(typing.get_type_hints(ClassifierParams)[key], value, path)
            reader.check_bounds(params[key], value, path)
        elif key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            moved = " (encoder settings are for all labels: set them under `encoder`)" if key in _ENCODER_KEYS else ""
            reader.fail(path, f"unknown key; {hint}expected one of {', '.join(allowed)}{moved}")


def _check_deployment(config: Config, reader: _Reader) -> None:
    """Per-label settings name configured labels; target precisions are the levels evaluate stores."""
    for path, mapping in (("evaluate.gates.per_label", config.evaluate.gates.per_label),
                          ("label.per_label", config.label.per_label)):  # fmt: skip
        for slug in mapping:
            if slug not in config.labels:
                reader.fail(f"{path}.{slug}", f"unknown label; expected a slug of `labels`: {', '.join(config.labels)}")
    targets = [("label.target_precision", config.label.target_precision)]
    targets += [
        (f"label.per_label.{slug}.target_precision", t.target_precision) for slug, t in config.label.per_label.items()
    ]
    for path, value in targets:
        if abs(value * 20 - round(value * 20)) > 1e-9:
            reader.fail(
                path, f"expected a multiple of 0.05 (the levels evaluate stores: 0.50 ... 0.95); found {value!r}"
            )


def _check_hyperparams(config: Config, reader: _Reader) -> None:
    for name, hp in config.classifier.tuning.hyperparams.items():
        path = f"classifier.tuning.hyperparams.{name}.tuning"
        t = hp.tuning
        if t is None or not t.tune:
            continue
        if t.param_type is None:
            reader.fail(f"{path}.param_type", "missing; expected one of 'int', 'float', 'boolean', 'choice'")
        elif t.param_type in ("int", "float"):
            if t.min is None or t.max is None:
                reader.fail(
                    path,
                    f"expected `min` and `max` for param_type {t.param_type!r}; found min={t.min!r}, max={t.max!r}",
                )
            elif t.min > t.max:
                reader.fail(f"{path}.min", f"expected a value <= max ({t.max!r}); found {t.min!r}")
            elif t.sampling in ("log", "reverse_log") and t.min <= 0:
                reader.fail(f"{path}.min", f"expected a value > 0 with sampling {t.sampling!r}; found {t.min!r}")
        elif t.param_type == "choice" and not t.values:
            reader.fail(f"{path}.values", f"expected a non-empty list of choices; found {t.values!r}")


def _check_heads(config: Config, reader: _Reader) -> None:
    """Averaged heads and the logistic head are heads on the frozen encoder's vectors (a label that
    fine-tunes its own encoder trains one network); the logistic head has no hyperparameters to
    tune, and is the one a refit fits again (it needs no val)."""
    frozen, tune, refit = config.encoder.frozen, config.classifier.tuning.tune, config.language_model.refit
    if refit and not frozen:
        reader.fail("language_model.refit", "expected false with encoder.frozen: false (a refit fits the heads "
                    "on the frozen encoders' vectors again); found true")  # fmt: skip
        return
    for slug in config.labels:
        params, own = config.classifier_for(slug)[0], config.labels[slug].overrides
        logistic = params.head == "logistic"
        checks = [
            ("ensemble", not frozen and params.ensemble != 1,
             f"expected 1 with encoder.frozen: false (a label fine-tunes one encoder); found {params.ensemble}"),
            ("head", not frozen and logistic, "expected 'network' with encoder.frozen: false (the logistic head "
             "reads the frozen encoder's vectors); found 'logistic'"),
            ("head", tune and logistic, "expected 'network' with classifier.tuning.tune: true (the search tunes "
             "the network head's hyperparameters; the logistic head has `c`); found 'logistic'"),
            ("head", refit and not logistic, "expected 'logistic' with language_model.refit: true (a network "
             "head stops early on val, which the refitted encoder has learnt); found 'network'"),
        ]  # fmt: skip
        for key, broken, problem in checks:
            if broken:
                reader.fail(f"labels.{slug}.{key}" if key in own else f"classifier.params.{key}", problem)
                return


TITLE_NGRAMS = "title_ngrams"  # a baseline.text option's own key, beside preprocess.text's


@dataclass(frozen=True)
class BaselineOption:
    """One baseline.text option: the text rules (preprocess.text with the option's keys laid over
    it), and whether the title's n-grams are also features of their own."""

    text: TextConfig
    title_ngrams: bool


def _check_baseline_text(config: Config, reader: _Reader) -> None:
    """Each option, laid over preprocess.text, must be text rules (and title_ngrams a boolean)."""
    if not config.baseline.text.options:
        reader.fail("baseline.text.options", "expected at least one option ({}: preprocess.text as it is); found none")
    names = _field_names(TextConfig) + [TITLE_NGRAMS]
    for i, option in enumerate(config.baseline.text.options):
        path = f"baseline.text.options[{i}]"
        if not isinstance(option, dict):
            expected = f"expected a mapping of preprocess.text keys or {TITLE_NGRAMS}"
            reader.fail(path, f"{expected}; found {_describe(option)}")
            continue
        reader.unknown_keys(option, names, path)
        rules = {key: value for key, value in option.items() if key in names and key != TITLE_NGRAMS}
        reader.read_dataclass(TextConfig, {**dataclasses.asdict(config.preprocess.text), **rules}, path)
        reader.read(bool, option.get(TITLE_NGRAMS, False), f"{path}.{TITLE_NGRAMS}")


def baseline_options(config: Config) -> list[BaselineOption]:
    """Each baseline.text option as text rules and title n-grams (checked when the config loaded)."""
    return [
        BaselineOption(
            dataclasses.replace(config.preprocess.text, **{k: v for k, v in option.items() if k != TITLE_NGRAMS}),
            option.get(TITLE_NGRAMS, False),
        )
        for option in config.baseline.text.options
    ]


def _check_import(config: Config, reader: _Reader) -> None:
    github = config.import_.github
    if not GITHUB_REPO.fullmatch(github.repo):
        reader.fail("import.github.repo", f"expected owner/name (e.g. microsoft/vscode); found {github.repo!r}")
    if not re.match(r"https?://[^/\s]+", github.api_url):
        reader.fail(
            "import.github.api_url",
            "expected the API root, https://api.github.com or https://HOST/api/v3 for GitHub Enterprise; "
            f"found {github.api_url!r}",
        )
    if isinstance(github.until, date):
        reader.fail(
            "import.github.until",
            f'expected a quoted timestamp such as "{github.until.isoformat()}"; found it unquoted, which YAML reads '
            "as a date and DVC cannot read at all",
        )
    elif github.until is not None:
        try:
            parse_time(github.until)
        except ValueError:
            reader.fail(
                "import.github.until",
                f'expected an ISO timestamp such as "2024-06-30T00:00:00Z", or null; found {github.until!r}',
            )


def load_config(path: str | Path = "config.yaml") -> Config:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: not found; expected the pipeline's config file"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError([f"{path}: not valid YAML: {error}"]) from None
    reader = _Reader()
    config = reader.read_dataclass(Config, data, "")
    if not reader.problems:
        _check_labels(config, reader)
        _check_hyperparams(config, reader)
        _check_import(config, reader)
        _check_deployment(config, reader)
        _check_heads(config, reader)
        _check_baseline_text(config, reader)
    if reader.problems:
        raise ConfigError([f"{path}: {problem}" for problem in reader.problems])
    return config
