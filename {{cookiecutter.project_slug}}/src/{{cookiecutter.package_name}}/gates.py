"""The gates of promotion (config.yaml `evaluate.gates`): minimum test metrics of the deployed model,
on the macro average and per label, as ibformers' model tests have them. `check-gates` prints each
gate as met or missed; `promote` refuses a model that misses one."""

from __future__ import annotations

from dataclasses import dataclass

from .core.config import Config, LabelMinimums, Minimums
from .core.errors import PipelineError

METRICS = ("precision", "recall", "f1", "average_precision")
MACRO = "macro average"


class GatesMissed(PipelineError):
    """At least one gate is missed; the message names them."""


@dataclass(frozen=True)
class Gate:
    scope: str  # MACRO or a label's slug
    metric: str
    minimum: float
    value: float | None  # None: not measured (a label dropped, or without test issues of both kinds)

    @property
    def met(self) -> bool:
        return self.value is not None and self.value >= self.minimum

    def describe(self) -> str:
        value = "not measured" if self.value is None else f"{self.value:.3f}"
        return f"{self.scope} {self.metric} {value} {'>=' if self.met else '<'} {self.minimum:g}"


def _minimums(config_minimums: Minimums | LabelMinimums | None) -> dict[str, float]:
    if config_minimums is None:
        return {}
    return {m: getattr(config_minimums, m) for m in METRICS if getattr(config_minimums, m) is not None}


def gates(config: Config, deployed: dict) -> list[Gate]:
    """Every configured gate, with the deployed model's value (`deployed`: its metrics)."""
    spec = config.evaluate.gates
    result = [Gate(MACRO, m, low, deployed["macro"].get(m)) for m, low in _minimums(spec.macro).items()]
    for slug in config.labels:
        minimums = _minimums(spec.every_label) | _minimums(spec.per_label.get(slug))
        label = deployed["labels"].get(slug)
        if label is None and slug not in spec.per_label:
            continue  # dropped by preprocess (too few issues): never applied, so not gated unless asked
        result += [Gate(slug, m, low, None if label is None else label.get(m)) for m, low in minimums.items()]
    return result


def table(checked: list[Gate]) -> str:
    """The gates as a markdown table (the terminal and the cloud run's report show the same)."""
    if not checked:
        return "No gates are set (config.yaml `evaluate.gates`): any trained model can be promoted.\n"
    lines = ["| gate | minimum | value | |", "|---|---|---|---|"]
    for gate in checked:
        value = "not measured" if gate.value is None else f"{gate.value:.3f}"
        lines.append(f"| {gate.scope} {gate.metric} | {gate.minimum:g} | {value} | {'met' if gate.met else 'MISSED'} |")
    return "\n".join(lines) + "\n"


def missed(checked: list[Gate]) -> list[Gate]:
    return [gate for gate in checked if not gate.met]


def regressions(checked: list[Gate], promoted: dict, max_regression: float) -> list[str]:
    """The gated metrics on which the new model is worse than the promoted one (`promoted`: its
    metrics) by more than `max_regression`."""
    worse = []
    for gate in checked:
        before = (promoted["macro"] if gate.scope == MACRO else promoted["labels"].get(gate.scope) or {}).get(
            gate.metric
        )
        if before is not None and gate.value is not None and before - gate.value > max_regression:
            worse.append(f"{gate.scope} {gate.metric} {gate.value:.3f} < promoted {before:.3f} - {max_regression:g}")
    return worse
