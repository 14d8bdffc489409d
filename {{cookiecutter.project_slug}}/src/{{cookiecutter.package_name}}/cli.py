"""One command per pipeline stage (what dvc.yaml runs), plus `check-config` and `predict`.

Errors a user can act on are printed as `error:` lines, with no traceback: exit code 2 for bad
input, 1 for the machine (a full disk). CTRL-C (130) and SIGTERM (143) stop a stage cleanly: atomic
writes leave no partial output behind.
"""

from __future__ import annotations

import argparse
import errno
import io
import json
import signal
import sys
import warnings
from pathlib import Path

from . import pipeline
from .config import ConfigError, load_config
from .errors import PipelineError

EXIT_USAGE = 2  # bad input: config, data, a flag
EXIT_SYSTEM = 1  # the machine: a full disk, a permission


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that cleanup code runs."""


def _on_sigterm(signum, frame):
    raise Terminated


def _warn(message, category, filename, lineno, file=None, line=None) -> None:
    """Our own warnings as one readable line; other libraries' as usual."""
    if Path(filename).is_relative_to(Path(__file__).parent):
        print(f"warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _os_error(error: OSError, command: str) -> str:
    """One line: the file, what went wrong, and for a full disk what to do."""
    where = error.filename or f"{command}: its output"
    reason = error.strerror or str(error)
    message = f"{where}: {reason[:1].lower() + reason[1:]}"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        message += "; free some space and run it again (the previous output is kept)"
    return message


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}", description=__doc__.split("\n")[0])
    p.add_argument("--config", default="config.yaml", help="the parameters file (default: config.yaml)")
    # --config is accepted after the command too (`check-config --config other.yaml`)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="the parameters file (default: config.yaml)")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, parents=[common])

    command("check-config", "validate config.yaml and list the labels")
    command("import-issues", "stage import_issues: read the issues into data/raw")
    command("preprocess", "stage preprocess: normalise text, map labels, split")
    command("finetune-lm", "stage finetune_lm: the base encoder, fine-tuned as a masked LM")
    train = command("train", "stage train@<label>: one label's classifier")
    train.add_argument("--label", required=True, help="the label's slug (a key of `labels` in config.yaml)")
    command("baseline", "stage baseline: TF-IDF + logistic regression, for comparison")
    command("evaluate", "stage evaluate: thresholds on val, metrics on test, report")
    predict = command("predict", "label new issues; prints one JSON line per issue")
    predict.add_argument("file", nargs="?", help="a .jsonl or .csv file of issues (title, body)")
    predict.add_argument("--title", help="the title of one issue to label (instead of FILE)")
    predict.add_argument("--body", default="", help="the body of that issue")
    predict.add_argument("--precision", type=float, help="apply labels at this validation precision (0.50-0.95)")
    sync = command("checkpoints", "training checkpoints to/from the DVC remote, for cloud runs that resume")
    sync.add_argument("action", choices=["pull", "push", "clear"], help="bring, send or delete this run's checkpoints")
    sync.add_argument("--every", type=float, metavar="SECONDS", help="push: again every SECONDS, until stopped")
    sync.add_argument("--run", help="the run's name (default: $GITHUB_SHA, else the git commit)")
    sync.add_argument("--remote", help="the DVC remote (default: the default remote)")
    return p


def run(args: argparse.Namespace) -> str | None:
    config = load_config(args.config)
    if args.command == "check-config":
        labels = ", ".join(f"{slug} ({label.name!r})" for slug, label in config.labels.items())
        return f"{args.config} is valid; labels: {labels}"
    if args.command == "train":
        return pipeline.train(config, args.label)
    if args.command == "checkpoints":
        from .checkpoint_sync import RemoteCheckpoints

        if args.every is not None and (args.action != "push" or args.every <= 0):
            raise PipelineError(
                f"--every: expected a number of seconds > 0 with push; found {args.every:g} with {args.action}"
            )
        remote = RemoteCheckpoints(config.paths.checkpoints, args.run, args.remote)
        if args.every:
            remote.push_every(args.every)
        return getattr(remote, args.action)()
    if args.command == "predict":
        from .issues.dump import read_dump
        from .predict import predict

        if bool(args.file) == bool(args.title):
            raise PipelineError("predict: expected a FILE or --title; found " + ("both" if args.file else "neither"))
        issues = read_dump(args.file) if args.file else [{"title": args.title, "body": args.body}]
        for result in predict(config, issues, args.precision):
            print(json.dumps(result, ensure_ascii=False))
        return None
    return getattr(pipeline, args.command.replace("-", "_"))(config)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # progress lines reach a CI log or a pipe as they are printed
        sys.stdout.reconfigure(line_buffering=True)
    warnings.showwarning = _warn
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        message = run(args)
    except ConfigError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # the machine, not the input: a full disk, a missing permission
        print(f"error: {_os_error(error, args.command)}", file=sys.stderr)
        return EXIT_SYSTEM
    except (KeyboardInterrupt, Terminated) as stop:
        name = "SIGTERM" if isinstance(stop, Terminated) else "SIGINT"
        print(f"{args.command}: stopped by {name}; no partial output was left", file=sys.stderr)
        return 143 if isinstance(stop, Terminated) else 130
    if message:
        print(message)
    return 0
