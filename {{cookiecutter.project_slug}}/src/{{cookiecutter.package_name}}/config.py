"""Load config.yaml into typed, validated objects.

Problems are reported together, each naming its key path, what was expected and what was
found: first every key and type problem, then (once those are fixed) every rule that spans
several keys. The dataclasses below are the schema:
their field names are the keys, their type hints the expected types, and `field(metadata=)`
the bounds.
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
    api_url: str = "https://api.github.com"
    until: str | date | None = None  # a date: an unquoted timestamp, which DVC cannot read (see _check_import)
    page_size: int = field(default=100, metadata={"min": 1, "max": 100})
    cache_dir: str = ".cache/import"
    timeout_seconds: float = field(default=60.0, metadata={"min_exclusive": 0})
    max_retries: int = field(default=8, metadata={"min": 0})
    backoff_seconds: float = field(default=1.0, metadata={"min": 0})


@dataclass(frozen=True)
class ImportConfig:
    source: Literal["demo", "file", "github"]
    github: GithubImport
    demo_issues: int = field(default=600, metadata={"min": 10})
    file: str = "data/external/issues.jsonl"
    test_file: str | None = None
    repo_filter: str | None = None


@dataclass(frozen=True)
class Label:
    name: str
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TextConfig:
    lowercase: bool = True
    strip_html_comments: bool = True
    strip_details: bool = False
    strip_code_blocks: bool = True
    strip_images: bool = True
    strip_links: bool = True
    strip_template_headings: bool = True
    strip_version_lines: bool = True
    max_chars: int = field(default=4000, metadata={"min": 1})


@dataclass(frozen=True)
class PreprocessConfig:
    text: TextConfig
    min_examples: int = field(default=5, metadata={"min": 1})
    bots: list[str] = field(default_factory=list)
    val_fraction: float = field(default=0.15, metadata={"min": 0.01, "max": 0.5})
    test_fraction: float = field(default=0.2, metadata={"min": 0.01, "max": 0.5})


@dataclass(frozen=True)
class ScratchEncoder:
    vocabulary_size: int = field(default=4000, metadata={"min": 100})
    num_layers: int = field(default=2, metadata={"min": 1})
    num_heads: int = field(default=2, metadata={"min": 1})
    hidden_dim: int = field(default=64, metadata={"min": 2})
    intermediate_dim: int = field(default=128, metadata={"min": 1})


@dataclass(frozen=True)
class EncoderTraining:
    """What the two encoder training phases share: length, batches and learning-rate schedule."""

    enabled: bool = True
    epochs: int = field(default=4, metadata={"min": 1})
    batch_size: int = field(default=32, metadata={"min": 1})
    learning_rate: float = field(default=1e-3, metadata={"min_exclusive": 0})
    schedule: Literal["constant", "cosine"] = "cosine"
    warmup_fraction: float = field(default=0.1, metadata={"min": 0, "max": 0.5})
    checkpoint_every_steps: int = field(default=0, metadata={"min": 0})


@dataclass(frozen=True)
class FinetuneConfig(EncoderTraining):
    mask_rate: float = field(default=0.15, metadata={"min_exclusive": 0, "max": 0.9})


@dataclass(frozen=True)
class SupervisedConfig(EncoderTraining):
    dropout: float = field(default=0.1, metadata={"min": 0, "max": 0.9})
    output: Literal["auto", "sigmoid", "softmax"] = "sigmoid"


@dataclass(frozen=True)
class LanguageModelConfig:
    scratch: ScratchEncoder
    finetune: FinetuneConfig
    supervised: SupervisedConfig
    base: str = "scratch"
    sequence_length: int = field(default=128, metadata={"min": 8})


@dataclass(frozen=True)
class ClassifierParams:
    epochs: int = field(default=20, metadata={"min": 1})
    batch_size: int = field(default=32, metadata={"min": 1})
    patience: int = field(default=3, metadata={"min": 0})
    sequence_length: int = field(default=128, metadata={"min": 8})
    pooling: Literal["cls", "mean"] = "mean"
    truncation: Literal["head", "head_tail"] = "head_tail"
    train_encoder: bool = False
    class_weight: Literal["balanced", "none"] = "balanced"
    checkpoint_every_steps: int = field(default=0, metadata={"min": 0})


@dataclass(frozen=True)
class HyperparamTuning:
    tune: bool = False
    param_type: Literal["int", "float", "boolean", "choice"] | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = field(default=None, metadata={"min_exclusive": 0})
    sampling: Literal["linear", "log", "reverse_log"] = "linear"
    values: list[Any] | None = None


@dataclass(frozen=True)
class Hyperparam:
    default_value: Any
    tuning: HyperparamTuning | None = None


@dataclass(frozen=True)
class TuningConfig:
    hyperparams: dict[str, Hyperparam]
    tune: bool = False
    tuner: Literal["random", "hyperband", "bayesian"] = "random"
    objective: Literal["val_pr_auc", "val_roc_auc", "val_loss"] = "val_pr_auc"
    max_trials: int = field(default=6, metadata={"min": 1})


@dataclass(frozen=True)
class ClassifierConfig:
    params: ClassifierParams
    tuning: TuningConfig
    per_label: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class BaselineConfig:
    ngram_max: int = field(default=2, metadata={"min": 1, "max": 3})
    min_df: int = field(default=1, metadata={"min": 1})
    c: float = field(default=10.0, metadata={"min_exclusive": 0})


@dataclass(frozen=True)
class EvaluateConfig:
    threshold_policy: Literal["max_f1", "target_precision"] = "max_f1"
    target_precision: float = field(default=0.7, metadata={"min": 0, "max": 1})
    baseline_weight: float = field(default=0.0, metadata={"min": 0, "max": 1})


@dataclass(frozen=True)
class AcceleratorConfig:
    mixed_precision: bool = False
    jit_compile: bool = False


@dataclass(frozen=True)
class PathsConfig:
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
    checkpoints: str = ".checkpoints"


@dataclass(frozen=True)
class Config:
    import_: ImportConfig
    labels: dict[str, Label]
    preprocess: PreprocessConfig
    language_model: LanguageModelConfig
    classifier: ClassifierConfig
    baseline: BaselineConfig
    evaluate: EvaluateConfig
    accelerator: AcceleratorConfig
    paths: PathsConfig
    seed: int = 42

    def label_slugs(self) -> list[str]:
        return list(self.labels)

    def classifier_for(self, slug: str) -> tuple[ClassifierParams, dict[str, Any]]:
        """The training params and hyperparameter values of one label, its overrides applied."""
        overrides = self.classifier.per_label.get(slug, {})
        params = dataclasses.replace(
            self.classifier.params,
            **{k: v for k, v in overrides.items() if k in _field_names(ClassifierParams)},
        )
        values = {name: hp.default_value for name, hp in self.classifier.tuning.hyperparams.items()}
        values.update({k: v for k, v in overrides.items() if k in values})
        return params, values


# --- the generic part: mapping YAML data onto the dataclasses above --------------------------

_KEY_ALIASES = {"import_": "import"}  # Python keywords cannot be field names


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
            return self.read(inner[0], value, path) if len(inner) == 1 else value
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
        }[tp]
        if not ok:
            self.fail(path, f"expected {_expected(tp)}; found {_describe(value)}")
            return value
        return float(value) if tp is float else value

    def read_dataclass(self, cls, data: Any, path: str):
        if not isinstance(data, dict):
            self.fail(path, f"expected a mapping; found {_describe(data)}")
            data = {}
        names = _field_names(cls)
        for key in data:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.fail(f"{path}.{key}".lstrip("."), f"unknown key; {hint}expected one of {', '.join(names)}")
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            key, sub = _key(f.name), f"{path}.{_key(f.name)}".lstrip(".")
            if key not in data:
                required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                if required:
                    self.fail(sub, f"missing; expected {_expected(hints[f.name])}")
                    values[f.name] = None
                continue
            value = self.read(hints[f.name], data[key], sub)
            self.check_bounds(f, value, sub)
            values[f.name] = value
        try:
            return cls(**values)
        except TypeError:  # only reachable when problems were already recorded
            return None

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
                "expected a slug of lowercase letters, digits and single '-' "
                f"(it names a DVC stage and a folder); found {slug!r}",
            )
        for name in [label.name, *label.aliases]:
            if name in owner and owner[name] != slug:
                reader.fail(
                    f"labels.{slug}",
                    "expected each GitHub label (name or alias) under one slug; "
                    f"found {name!r} also under {owner[name]!r}",
                )
            owner[name] = slug
    per_label = config.classifier.per_label
    for slug in config.labels:
        if slug not in per_label:
            reader.fail(
                f"classifier.per_label.{slug}",
                "missing; expected a mapping of overrides (`{}` for none), one entry per label",
            )
    allowed = _field_names(ClassifierParams) + list(config.classifier.tuning.hyperparams)
    for slug, overrides in per_label.items():
        if slug not in config.labels:
            reader.fail(f"classifier.per_label.{slug}", f"not a label; expected one of {', '.join(config.labels)}")
        for key, value in overrides.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                reader.fail(
                    f"classifier.per_label.{slug}.{key}", f"unknown key; {hint}expected one of {', '.join(allowed)}"
                )
            elif key in _field_names(ClassifierParams):
                f = next(f for f in dataclasses.fields(ClassifierParams) if f.name == key)
                path = f"classifier.per_label.{slug}.{key}"
                reader.read(typing.get_type_hints(ClassifierParams)[key], value, path)
                reader.check_bounds(f, value, path)


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
            elif t.sampling != "linear" and t.min <= 0:
                reader.fail(f"{path}.min", f"expected a value > 0 with sampling {t.sampling!r}; found {t.min!r}")
        elif t.param_type == "choice" and not t.values:
            reader.fail(f"{path}.values", f"expected a non-empty list of choices; found {t.values!r}")


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
    if reader.problems:
        raise ConfigError([f"{path}: {problem}" for problem in reader.problems])
    return config
