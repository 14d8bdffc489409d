"""Training checkpoints through the DVC remote, so that a cloud run on a spot machine that the
cloud reclaims resumes on the next machine instead of starting the stage over.

scripts/cml/train.sh pulls the checkpoints of its commit before `dvc repro`, pushes them every
few minutes while training (a reclaimed machine may vanish without running any exit trap) and
when stopped, and clears them from the remote once the pipeline has finished. They live beside
DVC's data, in `<remote>/checkpoints/<run>/`, where <run> is the commit (GITHUB_SHA, else git's
HEAD): a re-run of the same commit finds them, another commit never does.

A push uploads each file under its SHA-256 (`objects/<sha256>`), then `manifest.json` (path ->
sha256 and size) last, in one write. A pull reads only what a manifest names and checks every
hash: a push cut short leaves the previous complete set or the new one, never a half-written
checkpoint taken as valid. Objects that no manifest names any more are deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from .core.errors import PipelineError

MANIFEST = "manifest.json"
RUN = re.compile(r"[A-Za-z0-9._-]+")
FIRST = "checkpoint.npz"  # a folder's resume point: the files it refers to are written before it
TUNER = "tuner-"  # keras-tuner's folders (classifier.train_label): it rewrites its files in place


class SyncError(PipelineError):
    """The remote or the run cannot be named; the message says what is missing."""


def current_commit() -> str | None:
    """The commit being run: GITHUB_SHA in a workflow, else git's HEAD (None outside a repository)."""
    found = (
        os.environ.get("GITHUB_SHA")
        or subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    )
    return found or None


def run_name() -> str:
    """The commit this run trains."""
    sha = current_commit()
    if not sha:
        raise SyncError("checkpoints: expected GITHUB_SHA or a git commit to name the run (--run); found neither")
    return sha


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _size(total: int) -> str:
    return f"{total / 1e6:.1f} MB"


def _in_search(rel: Path) -> bool:
    return any(part.startswith(TUNER) for part in rel.parts)


def _searches_whole(files: dict[str, tuple[Path, str, int]]) -> bool:
    """Every keras-tuner state file reads as JSON, and every trial its oracle has started has its
    trial.json: a search resumes from such a state (a trial that was running is run again)."""
    tuner = {rel: link for rel, (link, _, _) in files.items() if _in_search(Path(rel))}
    try:
        states = {rel: json.loads(link.read_bytes()) for rel, link in tuner.items() if rel.endswith(".json")}
    except ValueError:  # cut off mid-write
        return False
    for rel, state in states.items():
        if rel.endswith("/oracle.json"):
            folder = rel.rsplit("/", 1)[0]
            if any(f"{folder}/trial_{trial}/trial.json" not in states for trial in state.get("start_order", [])):
                return False
    return True


class RemoteCheckpoints:
    """The checkpoints folder `local` and its copy for `run` on a DVC remote (default: the
    repository's default remote, with the credentials DVC is configured with)."""

    def __init__(
        self,
        local: str | Path,
        run: str | None = None,
        remote: str | None = None,
        kind: str = "checkpoints",
        fresh: str = "training starts from the beginning",
    ):
        from dvc.config import NoRemoteError
        from dvc.repo import Repo

        self.local, self.kind, self.fresh = Path(local), kind, fresh  # what is kept, and what a miss means
        self.run = run or run_name()
        if not RUN.fullmatch(self.run):
            raise SyncError(f"checkpoints --run: expected letters, digits, '.', '_' or '-'; found {self.run!r}")
        try:
            with Repo() as repo:
                target = repo.cloud.get_remote(remote)
        except NoRemoteError:
            raise SyncError(
                "checkpoints: expected a default DVC remote to keep them in (`dvc remote add --default NAME URL`); "
                "found none"
            ) from None
        self.fs = target.fs
        self.root = self.fs.join(target.path, "checkpoints", self.run)
        self.url = self.fs.unstrip_protocol(self.root)

    def _path(self, *parts: str) -> str:
        return self.fs.join(self.root, *parts)

    def _manifest(self) -> dict | None:
        path = self._path(MANIFEST)
        return json.loads(self.fs.cat_file(path)) if self.fs.exists(path) else None

    def _objects(self) -> set[str]:
        try:
            return {self.fs.name(path) for path in self.fs.find(self._path("objects"))}
        except FileNotFoundError:
            return set()

    def push(self) -> str | None:
        """Mirror the local checkpoints on the remote; a message when the remote changed."""
        if not self.local.is_dir():
            return self.clear() if self._manifest() else None
        with tempfile.TemporaryDirectory(dir=self.local, prefix=".push-") as staging:  # dot folders: never pushed
            files = self._snapshot(Path(staging))
            if files is None:  # a search is writing its state: the remote keeps the last whole one
                return None
            if not files:
                return self.clear() if self._manifest() else None
            manifest = {"run": self.run, "files": {rel: {"sha256": h, "size": s} for rel, (_, h, s) in files.items()}}
            if manifest == self._manifest():
                return None
            present = self._objects()
            sent = 0
            for staged, digest, size in files.values():
                if digest not in present:
                    self.fs.put_file(str(staged), self._path("objects", digest))
                    present.add(digest)
                    sent += size
            self.fs.pipe_file(self._path(MANIFEST), json.dumps(manifest, indent=1).encode())  # last: the commit
        named = {info["sha256"] for info in manifest["files"].values()}
        for digest in present - named:  # earlier checkpoints, now replaced
            self.fs.rm(self._path("objects", digest))
        return f"{self.kind}: pushed {len(files)} files ({_size(sent)} uploaded) to {self.url}"

    def _snapshot(self, staging: Path) -> dict[str, tuple[Path, str, int]] | None:
        """rel path -> (a hard link frozen now, its sha256, size). Training replaces checkpoint files by
        renaming, so a link keeps the version read; keras-tuner rewrites its own in place, so they are
        copied. A folder that a finished stage removed meanwhile is left out whole: half of it would
        resume with the wrong best weights. None while a search's state is half-written."""
        folders: dict[Path, list[Path]] = defaultdict(list)
        for path in self.local.rglob("*"):  # less temporary files and folders (dot names)
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(self.local).parts):
                folders[path.parent].append(path)
        files = {}
        for index, (_, paths) in enumerate(sorted(folders.items())):
            frozen = {}
            try:
                for path in sorted(paths, key=lambda p: (p.name != FIRST, p.name)):
                    link = staging / str(index) / path.name
                    link.parent.mkdir(exist_ok=True)
                    rel = path.relative_to(self.local)
                    if not _in_search(rel):
                        with contextlib.suppress(OSError):
                            os.link(path, link)
                    if not link.exists():
                        shutil.copyfile(path, link)  # rewritten in place, or no hard links on this file system
                    frozen[rel.as_posix()] = (link, sha256(link), link.stat().st_size)
            except FileNotFoundError:
                continue
            files.update(frozen)
        return files if _searches_whole(files) else None

    def pull(self) -> str:
        """Bring this run's checkpoints from the remote; a damaged set is left out with a warning."""
        manifest = self._manifest()
        if not manifest:
            return f"{self.kind}: none for run {self.run} on the remote; {self.fresh}"
        self.local.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.local, prefix=".pull-") as staging:
            fetched = []
            for rel, info in manifest["files"].items():
                target = self.local / rel
                if Path(rel).is_absolute() or ".." in Path(rel).parts:
                    return self._damaged(f"{rel!r} is not a path inside {self.local}")
                staged = Path(staging) / info["sha256"]
                if not staged.exists():
                    try:
                        self.fs.get_file(self._path("objects", info["sha256"]), str(staged))
                    except FileNotFoundError:
                        return self._damaged(f"{rel} is missing")
                if sha256(staged) != info["sha256"]:
                    return self._damaged(f"{rel} does not match its SHA-256")
                fetched.append((target, staged))
            # the resume points last, so that a pull cut short never pairs one with stale files
            for target, staged in sorted(fetched, key=lambda item: item[0].name == FIRST):
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.pull.tmp")
                try:
                    shutil.copyfile(staged, tmp)
                    tmp.replace(target)
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
        total = sum(info["size"] for info in manifest["files"].values())
        return f"{self.kind}: pulled {len(fetched)} files ({_size(total)}) of run {self.run} from {self.url}"

    def _damaged(self, why: str) -> str:
        print(f"warning: {self.kind} of run {self.run} on the remote are damaged ({why}): not used", file=sys.stderr)
        return f"{self.kind}: none usable for run {self.run}; {self.fresh}"

    def clear(self) -> str:
        try:
            paths = list(self.fs.find(self.root))
        except FileNotFoundError:
            paths = []
        if not paths:
            return f"{self.kind}: none for run {self.run} on the remote"
        self.fs.rm(paths)  # file by file: not every storage removes a folder (a prefix) recursively
        return f"{self.kind}: removed {self.url}"

    def push_every(self, seconds: float) -> None:
        """Push every `seconds` until stopped (SIGTERM); a failed push is a warning, the next one retries."""
        while True:
            time.sleep(seconds)
            try:
                message = self.push()
            except Exception as error:  # the network, the storage: try again next time
                print(f"warning: checkpoints: push failed, retrying in {seconds:g} s: {error}", file=sys.stderr)
                continue
            if message:
                print(message, flush=True)
