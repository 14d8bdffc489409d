"""The first job of .github/workflows/sweep.yaml: its input, a list of experiments, as the matrix
of the jobs that run them, one GPU machine each. Every experiment is a set of `dvc exp run -S`
values (`classifier.params.epochs=5 evaluate.target_precision=0.8`); experiments are separated by
`;` or new lines; values are split like a shell's words (quote a value with spaces). A value names
a key of config.yaml, with or without the `config.yaml:` prefix; `+key=value` adds a key,
`++key=value` adds or overrides it, `~key` removes it (DVC's Hydra syntax). Each key is checked
against config.yaml here, before any machine starts; at most MAX_EXPERIMENTS experiments.
Writes `matrix` (JSON: {"experiment": [{"index", "name", "title", "params"}, ...]}) to
$GITHUB_OUTPUT (else prints it); `params` holds one -S value a line.
Env: SWEEP_EXPERIMENTS (the input), GITHUB_RUN_ID (the experiments' names: sweep-<run id>-<n>),
GITHUB_OUTPUT. Exit code 2, with one `error:` line, on a bad list."""

import difflib
import json
import os
import shlex
import sys
from pathlib import Path

import yaml

MAX_EXPERIMENTS = 8  # one GPU machine each, all at once
PARAMS_FILE = "config.yaml"  # the pipeline's params file (dvc.yaml's `vars`)


class SweepError(Exception):
    """A list of experiments that cannot run: the message says which and why."""


def split_experiments(text: str) -> list[list[str]]:
    """The input's experiments, each as its words; `;` and new lines separate experiments, and
    `-S`/`--set-param` words (pasted from a `dvc exp run` line) are left out."""
    experiments = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";")
        lexer.whitespace_split, lexer.commenters = True, ""
        try:
            words = list(lexer)
        except ValueError as error:  # an unclosed quote
            raise SweepError(f"{line.strip()!r}: {error}") from None
        current: list[str] = []
        for word in [*words, ";"]:
            if set(word) == {";"}:
                if current:
                    experiments.append(current)
                current = []
            elif word not in ("-S", "--set-param"):
                current.append(word)
    return experiments


def check_value(value: str, config: dict) -> str:
    """`[config.yaml:]KEY=VALUE` (or `~KEY`) as a `dvc exp run -S` value with the file named,
    its key checked against config.yaml."""
    if ":" in value.split("=", 1)[0]:
        name, value = value.split(":", 1)
        if name != PARAMS_FILE:
            raise SweepError(f"{name}:{value}: the params file is {PARAMS_FILE}; found {name}")
    key, equals, _ = value.partition("=")
    prefix = key[: len(key) - len(key.lstrip("+~"))]
    if prefix not in ("", "+", "++", "~"):
        raise SweepError(f"{value}: expected KEY=VALUE, +KEY=VALUE, ++KEY=VALUE or ~KEY")
    if not equals and prefix != "~":
        raise SweepError(f"{value}: expected KEY=VALUE (a key of {PARAMS_FILE} and its value)")
    parts = key[len(prefix) :].split(".")
    if not all(parts):
        raise SweepError(f"{value}: {key[len(prefix) :]!r} is not a dotted key of {PARAMS_FILE}")
    node, path = config, []
    must_exist = parts if prefix in ("", "~") else parts[:-1]  # + and ++ may add the last key
    for part in must_exist:
        if not isinstance(node, dict) or part not in node:
            where = ".".join(path) or "the top level"
            if not isinstance(node, dict):
                raise SweepError(f"{value}: {where} is a value, not a section with keys")
            close = difflib.get_close_matches(part, [str(key) for key in node], n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"its keys: {', '.join(map(str, node))}"
            raise SweepError(f"{value}: {part!r} is not a key of {PARAMS_FILE} under {where}; {hint}")
        node, path = node[part], [*path, part]
    if prefix in ("+", "++") and not isinstance(node, dict):
        raise SweepError(f"{value}: {'.'.join(path)} is a value, not a section a key can be added to")
    return f"{PARAMS_FILE}:{value}"


def plan(text: str, config: dict, run_id: str, limit: int = MAX_EXPERIMENTS) -> list[dict]:
    """The matrix's experiments; a SweepError for an empty or too long list, a bad value, a key
    set twice in one experiment, or an experiment listed twice."""
    experiments = split_experiments(text)
    if not experiments:
        raise SweepError("no experiment given: expected one set of -S values (KEY=VALUE ...) per line or per ';'")
    if len(experiments) > limit:
        raise SweepError(
            f"{len(experiments)} experiments given; a sweep runs at most {limit} (one GPU machine each): "
            "split them over several runs"
        )
    planned, seen = [], {}
    for index, words in enumerate(experiments, start=1):
        params = [check_value(word, config) for word in words]
        keys = [param.removeprefix(f"{PARAMS_FILE}:").split("=", 1)[0].lstrip("+~") for param in params]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise SweepError(f"experiment {index}: {', '.join(twice)} set more than once")
        same = seen.setdefault(tuple(sorted(params)), index)
        if same != index:
            raise SweepError(f"experiment {index} repeats experiment {same}: {shlex.join(words)}")
        planned.append({
            "index": index,
            "name": f"sweep-{run_id}-{index}",
            "title": shlex.join(param.removeprefix(f"{PARAMS_FILE}:") for param in params),
            "params": "\n".join(params),
        })  # fmt: skip
    return planned


def main() -> int:
    config = yaml.safe_load(Path(PARAMS_FILE).read_text(encoding="utf-8"))
    try:
        experiments = plan(os.environ.get("SWEEP_EXPERIMENTS", ""), config, os.environ.get("GITHUB_RUN_ID", "local"))
    except SweepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for experiment in experiments:
        words = [word for param in experiment["params"].splitlines() for word in ("-S", param)]
        print(f"{experiment['name']}: dvc exp run {shlex.join(words)}")
    output = "matrix=" + json.dumps({"experiment": experiments}, separators=(",", ":"))
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as file:
            file.write(output + "\n")
    else:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
