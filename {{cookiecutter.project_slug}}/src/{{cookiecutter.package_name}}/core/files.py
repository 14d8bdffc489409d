"""Atomic outputs: every file is written beside its target and renamed into place, so a killed
stage leaves the old output or none, never a truncated file that DVC could cache."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


def write_text(path: str | Path, text: str | Iterable[str]) -> None:
    """`text`, or its parts one by one (a big file is never one string in memory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for part in [text] if isinstance(text, str) else text:
                handle.write(part)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)  # a failed write (a full disk) names no file: name the output
        raise


def write_json(path: str | Path, data) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    write_text(path, (json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows))


def read_json(path: str | Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty sibling folder to fill; on success it replaces `path`, on failure it goes."""
    path = Path(path)
    with together(path) as staged:
        staged[path].mkdir()
        yield staged[path]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def together(*targets: str | Path) -> Iterator[dict[Path, Path]]:
    """Outputs that go in place as one set: yield target -> a staging path beside it (write a file
    or make a folder there); on success every target is swapped in, the previous versions moved
    aside until the last is in; an error or a stop midway puts the previous set back whole."""
    paths = [Path(target) for target in targets]
    staged = {path: path.with_name(f".{path.name}.staged.tmp") for path in paths}
    for path, stage in staged.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove(stage)
    swapped: list[tuple[Path, Path, bool, bool]] = []  # target, its previous version, had one, new in place
    try:
        yield staged
        for path in paths:
            old = path.with_name(f".{path.name}.old")
            _remove(old)
            had = path.exists()
            if had:
                path.rename(old)
            swapped.append((path, old, had, False))
            staged[path].rename(path)
            swapped[-1] = (path, old, had, True)
    except BaseException as error:
        for path, old, had, placed in reversed(swapped):
            if placed:
                _remove(path)
            if had:
                old.rename(path)
        if isinstance(error, OSError):  # name the output, not its staging path
            for path, stage in staged.items():
                if error.filename and str(error.filename).startswith(str(stage)):
                    error.filename = str(path) + str(error.filename)[len(str(stage)) :]
            error.filename = error.filename or str(paths[0])
        raise
    finally:
        for stage in staged.values():
            _remove(stage)
    for _, old, had, _ in swapped:
        if had:
            _remove(old)
