"""`{{ cookiecutter.project_slug }} COMMAND`: one command per pipeline stage (what dvc.yaml runs, as
`python -m {{ cookiecutter.package_name }}.stages.<stage>`) and per action, dispatched through the table below.
Each command imports only its own module, so `--help` and the light stages start at once."""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from .core.command import add_config_argument, add_label_argument, execute
from .core.config import Config, load_config
from .core.errors import PipelineError


@dataclass(frozen=True)
class Command:
    help: str
    stage: str | None = None  # a module of stages/: its run(config[, label])
    action: Callable | None = None  # else: action(config, args)
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    label: bool = False  # the stage trains labels: --label


def _check_config(config: Config, args) -> str:
    labels = ", ".join(f"{slug} ({label.name!r})" for slug, label in config.labels.items())
    return f"{args.config} is valid; labels: {labels}"


def _predict_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="a .jsonl or .csv file of issues (title, body)")
    p.add_argument("--title", help="the title of one issue to label (instead of FILE)")
    p.add_argument("--body", default="", help="the body of that issue")
    p.add_argument("--precision", type=float, help="apply labels at this validation precision (0.50-0.95)")


def _predict(config: Config, args) -> None:
    from .issues.dump import read_dump
    from .predict import predict

    if bool(args.file) == bool(args.title):
        raise PipelineError("predict: expected a FILE or --title; found " + ("both" if args.file else "neither"))
    issues = read_dump(args.file) if args.file else [{"title": args.title, "body": args.body}]
    for result in predict(config, issues, args.precision):
        print(json.dumps(result, ensure_ascii=False))


def _checkpoints_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["pull", "push", "clear"], help="bring, send or delete this run's checkpoints")
    p.add_argument("--every", type=float, metavar="SECONDS", help="push: again every SECONDS, until stopped")
    p.add_argument("--run", help="the run's name (default: $GITHUB_SHA, else the git commit)")
    p.add_argument("--remote", help="the DVC remote (default: the default remote)")


def _checkpoints(config: Config, args) -> str | None:
    from .checkpoint_sync import RemoteCheckpoints

    if args.every is not None and (args.action != "push" or args.every <= 0):
        raise PipelineError(
            f"--every: expected a number of seconds > 0 with push; found {args.every:g} with {args.action}"
        )
    remote = RemoteCheckpoints(config.paths.checkpoints, args.run, args.remote)
    if args.every:
        remote.push_every(args.every)
    return getattr(remote, args.action)()


def _import_cache_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["pull", "push"], help="bring or send the importer's store of issues")
    p.add_argument("--remote", help="the DVC remote (default: the default remote)")


def _import_cache(config: Config, args) -> str | None:
    from .checkpoint_sync import RemoteCheckpoints

    if config.import_.source != "github":
        return f"import-cache: import.source is {config.import_.source!r}: no store of GitHub issues to keep"
    remote = RemoteCheckpoints(
        config.import_.github.cache_dir, "import-cache", args.remote, "import-cache", "the import fetches every issue"
    )
    return getattr(remote, args.action)()


def _check_gates(config: Config, args) -> str:
    from . import gates
    from .predict import trained

    checked = gates.gates(config, trained(config).test_metrics())
    print(gates.table(checked), end="")
    missed = gates.missed(checked)
    if missed:
        raise gates.GatesMissed(
            f"{len(missed)} of {len(checked)} gates missed: " + ", ".join(g.describe() for g in missed)
        )
    return f"all {len(checked)} gates met" if checked else ""


def _promote(config: Config, args) -> str:
    from .promote import promote, rollback

    return rollback(config) if args.command == "rollback" else promote(config)


def _label_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--issues", metavar="NUMBERS", help="issue numbers and ranges, e.g. 120-180,201 (dry run unless --apply)"
    )
    which.add_argument(
        "--sweep", action="store_true", help="the open issues updated since the last sweep (applies unless --dry-run)"
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--apply", action="store_true", help="write the labels (or comments) to GitHub")
    mode.add_argument("--dry-run", action="store_true", help="print the plan; write nothing to GitHub")
    p.add_argument("--plan", metavar="FILE", help="also write the plan as JSON to FILE")


def _label(config: Config, args) -> str:
    from .issues.github import connect
    from .label import parse_issues, run

    numbers = parse_issues(args.issues) if args.issues else None
    apply = args.apply or (args.sweep and not args.dry_run)
    options = config.import_.github
    why, again = "`label` reads and writes GitHub issues", "Run `label` again: done issues are skipped."
    return run(config, lambda: connect(options, why, purpose="labelling", again=again), numbers, apply, args.plan)


def _monitor(config: Config, args) -> str:
    from .monitor import report

    return report(config)


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="the address to listen on (default: serve.host)")
    p.add_argument("--port", type=int, help="the port (default: serve.port)")
    p.add_argument("--insecure-no-auth", action="store_true", help="serve without bearer tokens (local use only)")


def _serve(config: Config, args) -> str:
    from .serve import serve

    return serve(config, args.host, args.port, args.insecure_no_auth)


COMMANDS = {
    "check-config": Command("validate config.yaml and list the labels", action=_check_config),
    "import-issues": Command("stage import_issues: read the issues into data/raw", stage="import_issues"),
    "preprocess": Command("stage preprocess: normalise text, map labels, split", stage="preprocess"),
    "finetune-lm": Command("stage finetune_lm: the base encoder, fine-tuned on the issues", stage="finetune_lm"),
    "train": Command("stage train: every label's classifier (those whose inputs changed)", stage="train", label=True),
    "baseline": Command("stage baseline: TF-IDF + logistic regression, for comparison", stage="baseline"),
    "evaluate": Command("stage evaluate: thresholds on val, metrics on test, report", stage="evaluate"),
    "predict": Command(
        "label new issues; prints one JSON line per issue", action=_predict, arguments=_predict_arguments
    ),
    "import-cache": Command(
        "the importer's store of GitHub issues to/from the DVC remote, so that cloud runs re-import only changes",
        action=_import_cache,
        arguments=_import_cache_arguments,
    ),
    "check-gates": Command(
        "the trained model against config.yaml's evaluate.gates: met or missed", action=_check_gates
    ),
    "promote": Command("put the trained model in service for `label`, if it passes its gates", action=_promote),
    "rollback": Command("put the previously promoted model back in service", action=_promote),
    "label": Command("apply the promoted model's labels to GitHub issues", action=_label, arguments=_label_arguments),
    "monitor": Command("live precision of the applied labels, from GitHub's label timeline", action=_monitor),
    "serve": Command(
        "the model over HTTP: predictions and embeddings (docs/serving.md)", action=_serve, arguments=_serve_arguments
    ),
    "checkpoints": Command(
        "training checkpoints to/from the DVC remote, for cloud runs that resume",
        action=_checkpoints,
        arguments=_checkpoints_arguments,
    ),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}", description=__doc__.split("\n")[0])
    add_config_argument(p, "config.yaml")
    common = argparse.ArgumentParser(add_help=False)  # --config is accepted after the command too
    add_config_argument(common, argparse.SUPPRESS)
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, parents=[common])
        if command.arguments:
            command.arguments(sub)
        if command.label:
            add_label_argument(sub)
    return p


def run(args: argparse.Namespace) -> str | None:
    command = COMMANDS[args.command]
    config = load_config(args.config)
    if command.stage is None:
        return command.action(config, args)
    stage = importlib.import_module(f".stages.{command.stage}", __package__)
    return stage.run(config, args.label) if command.label else stage.run(config)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return execute(args.command, lambda: run(args))
