"""Running one command, a pipeline stage or an action: its outcome as one line.

Errors a user can act on are printed as `error:` lines, with no traceback: exit code 2 for bad
input, 1 for the machine (a full disk). CTRL-C (130) and SIGTERM (143) stop a command cleanly:
atomic writes leave no partial output behind.
"""

from __future__ import annotations

import argparse
import errno
import io
import signal
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from .config import ConfigError, load_config
from .errors import PipelineError

EXIT_USAGE = 2  # bad input: config, data, a flag
EXIT_SYSTEM = 1  # the machine: a full disk, a permission
PACKAGE = Path(__file__).parents[1]


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that cleanup code runs."""


_stopped: list[int] = []  # the signals received: an exception raised while Python runs a __del__ is lost


def _on_sigterm(signum, frame):
    _stopped.append(signum)
    raise Terminated


def raise_if_stopped() -> None:
    """Raise Terminated if SIGTERM came and its exception was lost (Python ignores exceptions raised
    in finalisers, which TensorFlow runs often); long loops call this at their safe points."""
    if _stopped:
        raise Terminated


def _unraisable(unraisable) -> None:
    """SIGTERM's exception raised inside a finaliser is lost, not an error: `_stopped` keeps it for
    raise_if_stopped, so no traceback for it; anything else as usual."""
    if not isinstance(unraisable.exc_value, Terminated):
        sys.__unraisablehook__(unraisable)


def _warn(message, category, filename, lineno, file=None, line=None) -> None:
    """Our own warnings as one readable line; other libraries' as usual."""
    if Path(filename).is_relative_to(PACKAGE):
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


def execute(name: str, action: Callable[[], str | None]) -> int:
    """Run `action` (command `name`); print its message or its error; return the exit code."""
    if isinstance(sys.stdout, io.TextIOWrapper):  # progress lines reach a CI log or a pipe as they are printed
        sys.stdout.reconfigure(line_buffering=True)
    warnings.showwarning = _warn
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.unraisablehook = _unraisable
    try:
        message = action()
    except ConfigError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # the machine, not the input: a full disk, a missing permission
        print(f"error: {_os_error(error, name)}", file=sys.stderr)
        return EXIT_SYSTEM
    except (KeyboardInterrupt, Terminated) as stop:
        signal_name = "SIGTERM" if isinstance(stop, Terminated) else "SIGINT"
        print(f"{name}: stopped by {signal_name}; no partial output was left", file=sys.stderr)
        return 143 if isinstance(stop, Terminated) else 130
    if message:
        print(message)
    return 0


def add_config_argument(parser: argparse.ArgumentParser, default=None) -> None:
    parser.add_argument("--config", default=default, help="the parameters file (default: config.yaml)")


def add_label_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--label", action="append", default=[], metavar="SLUG",
                        help="train only this label (a key of `labels` in config.yaml), even if its inputs are "
                        "unchanged; repeatable")  # fmt: skip


def stage_main(name: str, run: Callable, description: str, label: bool = False) -> int:
    """`python -m <package>.stages.<stage>`, as dvc.yaml runs a stage: `run(config[, label])`."""
    parser = argparse.ArgumentParser(prog=f"stage {name}", description=description)
    add_config_argument(parser, "config.yaml")
    if label:
        add_label_argument(parser)
    args = parser.parse_args()
    extra = (args.label,) if label else ()
    return execute(name, lambda: run(load_config(args.config), *extra))
