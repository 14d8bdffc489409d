"""Faults, each on the stage it hits: a clear one-line message, the right exit code, no traceback,
and the previous output kept (or none), with no temporary file left behind.

Stages run through the command line, as `dvc repro` runs them, on a copy of the session's trained
tiny pipeline. Faults a test cannot cause for real (a full disk, a signal at an exact moment) are
injected at start-up by a `sitecustomize` module that only these tests put on the path."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import SRC, set_keys

pytestmark = pytest.mark.slow
PACKAGE = "{{ cookiecutter.package_name }}"

SITECUSTOMIZE = '''
"""Faults for the tests of test_faults.py, chosen by environment variables."""
import builtins, errno, io, os, sys, time

FULL = os.environ.get("TEST_DISK_FULL_UNDER")  # writes to files under this folder fail: ENOSPC
PAUSE = os.environ.get("TEST_PAUSE_BEFORE")  # "first": the first rename in the project; or a path

if FULL:
    _open, _fdopen = io.open, os.fdopen

    class Full:
        """A file on a full disk: the first write gets part of its data out, then fails."""
        def __init__(self, handle):
            self._handle = handle
        def write(self, data):
            self._handle.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        def __getattr__(self, name):
            return getattr(self._handle, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self._handle.close()

    def full(handle, path, mode):
        writing = any(flag in mode for flag in "wax+")
        return Full(handle) if writing and os.path.realpath(path).startswith(FULL + os.sep) else handle

    def open(file, mode="r", *args, **kwargs):
        handle = _open(file, mode, *args, **kwargs)
        return handle if isinstance(file, int) else full(handle, file, mode)

    def fdopen(fd, mode="r", *args, **kwargs):
        return full(_fdopen(fd, mode, *args, **kwargs), os.readlink(f"/proc/self/fd/{fd}"), mode)

    builtins.open = io.open = open
    os.fdopen = fdopen

if PAUSE:
    _replace, _rename, paused = os.replace, os.rename, []

    def pause(dst):
        """Wait (for the test's signal) before the first rename into the project, or into PAUSE."""
        target = os.path.realpath(dst)
        if not paused and (target == PAUSE or PAUSE == "first" and target.startswith(os.getcwd() + os.sep)):
            paused.append(target)
            print(f"test: paused before renaming to {target}", file=sys.stderr, flush=True)
            time.sleep(300)

    def replace(src, dst, *args, **kwargs):
        pause(dst)
        return _replace(src, dst, *args, **kwargs)

    def rename(src, dst, *args, **kwargs):
        pause(dst)
        return _rename(src, dst, *args, **kwargs)

    os.replace, os.rename = replace, rename
'''

STAGES = {
    # stage: (command, its outputs, the output it puts in place first)
    "import_issues": (["import-issues"], ["data/raw/issues.jsonl"], "data/raw/issues.jsonl"),
    "preprocess": (["preprocess"], ["data/processed"], "data/processed"),
    "finetune_lm": (["finetune-lm"], ["models/encoder"], "models/encoder"),
    "train": (["train", "--label", "bug"], ["models/classifiers/bug", "reports/training/labels/bug"],
              "reports/training/labels/bug"),
    "baseline": (["baseline"], ["models/baseline"], "models/baseline"),
    "evaluate": (["evaluate"], ["models/thresholds.json", "reports/test_predictions.jsonl", "reports/plots",
                                "reports/report.md", "reports/metrics.json"], "models/thresholds.json"),
}  # fmt: skip
TEMPORARY = re.compile(r"^\..*(tmp|\.old$)|^\.(push|pull)-")  # files.py, resumable.py, checkpoint_sync.py


def digests(project: Path, outputs: list[str]) -> dict[str, str]:
    """sha256 of every file of the outputs (a missing output: absent)."""
    found = {}
    for output in outputs:
        path = project / output
        for file in sorted(path.rglob("*")) if path.is_dir() else [path] if path.exists() else []:
            if file.is_file():
                found[str(file.relative_to(project))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


def temporary_files(project: Path) -> list[str]:
    return [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if TEMPORARY.search(path.name) and path.relative_to(project).parts[0] not in (".dvc", ".git")
    ]


@pytest.fixture
def stage_project(trained, tmp_path):
    """A copy of the trained tiny pipeline (config, every stage's inputs and outputs), and the
    fault-injecting sitecustomize beside it."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(trained / "config.yaml", project)
    for folder in ("data", "models", "reports"):
        shutil.copytree(trained / folder, project / folder)
    (tmp_path / "faults").mkdir()
    (tmp_path / "faults/sitecustomize.py").write_text(SITECUSTOMIZE)
    return project


def stage_env(project: Path, **faults: str) -> dict:
    return {**os.environ, **faults, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": f"{project.parent / 'faults'}:{SRC}"}


def cli(args: list[str]) -> list[str]:
    return [sys.executable, "-m", PACKAGE, *args]


def run(command: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def edit_config(project: Path, changes: dict) -> None:
    path = project / "config.yaml"
    path.write_text(yaml.safe_dump(set_keys(yaml.safe_load(path.read_text()), changes), allow_unicode=True))


@pytest.mark.parametrize("stage", list(STAGES))
def test_disk_full(stage_project, stage):
    """Every write under the project fails as on a full disk: one `error:` line names the file and
    says so, exit code 1, the previous output unchanged, nothing temporary left."""
    args, outputs, _ = STAGES[stage]
    project = stage_project
    before = digests(project, outputs)
    result = run(cli(args), cwd=project, env=stage_env(project, TEST_DISK_FULL_UNDER=str(project.resolve())))
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"error: \S+: no space left on device; free some space and run it again "
                        r"\(the previous output is kept\)", last), last  # fmt: skip
    named = last.split()[1].rstrip(":")
    assert not TEMPORARY.search(Path(named).name), f"names a temporary file: {named}"
    assert digests(project, outputs) == before
    assert temporary_files(project) == []


def ctrl_c_as_in_a_terminal() -> None:
    """SIGINT back to its default in the stage: a suite started in the background of a script
    (`make test &`) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=lambda how: how.name)
def test_stopped_stage(stage_project, stage, how):
    """CTRL-C (SIGINT) at the stage's first rename into the project, mid-stage (a checkpoint, for
    training stages); SIGTERM just before its first output is put in place (an atomic folder's
    previous version already moved aside). Exit 130 or 143, one line, no traceback, the previous
    output unchanged, nothing temporary left."""
    args, outputs, first = STAGES[stage]
    project = stage_project
    before = digests(project, outputs)
    pause = "first" if how == signal.SIGINT else str((project / first).resolve())
    process = subprocess.Popen(cli(args), cwd=project, env=stage_env(project, TEST_PAUSE_BEFORE=pause),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=ctrl_c_as_in_a_terminal)  # fmt: skip
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.startswith("test: paused before"):
            process.send_signal(how)
            break
    stderr = "".join(lines) + process.stderr.read()
    process.wait(timeout=60)
    assert "test: paused before" in stderr, f"{stage} ended without renaming anything: {stderr[-3000:]}"
    assert process.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[how], stderr[-3000:]
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == f"{args[0]}: stopped by {how.name}; no partial output was left"
    assert digests(project, outputs) == before
    assert temporary_files(project) == []


def test_evaluate_stopped_between_its_outputs_keeps_the_previous_set(stage_project):
    """evaluate's five outputs are one set: SIGTERM after two of a new set are in place (before the
    report's rename) puts the previous two back, so no output of one run sits beside another's."""
    _, outputs, _ = STAGES["evaluate"]
    project = stage_project
    edit_config(project, {"evaluate.baseline_weight": 0.3})  # every output changes
    before = digests(project, outputs)
    pause = str((project / "reports/report.md").resolve())
    process = subprocess.Popen(cli(["evaluate"]), cwd=project, env=stage_env(project, TEST_PAUSE_BEFORE=pause),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    for line in process.stderr:
        if line.startswith("test: paused before"):
            process.send_signal(signal.SIGTERM)
            break
    process.wait(timeout=60)
    assert process.returncode == 143
    assert digests(project, outputs) == before and temporary_files(project) == []

    result = run(cli(["evaluate"]), cwd=project, env=stage_env(project))
    assert result.returncode == 0, result.stderr[-3000:]
    after = digests(project, outputs)
    assert all(after[path] != before[path] for path in ("models/thresholds.json", "reports/metrics.json"))


BASES = {
    "missing folder": ("models/nope", "'models/nope' is not a directory; expected 'scratch', a keras-hub preset"),
    "unsupported architecture": ("arch", "cannot load '{base}' as a masked language model: KerasHub has no converter"),
    "garbage weights": ("garbage", "cannot load '{base}' as a masked language model: Unable to synchronously open"),
    "unknown preset name": ("bert_huge_xx", "cannot load 'bert_huge_xx' as a masked language model:"),
}


@pytest.mark.parametrize("case", list(BASES))
def test_unusable_base_model(stage_project, tmp_path, case):
    """language_model.base that is no usable encoder: one line naming the key and what is wrong,
    exit 2, the encoder unchanged."""
    base, message = BASES[case]
    project = stage_project
    if base in ("arch", "garbage"):
        base = str(tmp_path / base)
        if case == "garbage weights":  # a keras-hub preset whose weights are random bytes
            shutil.copytree(project / "models/encoder", base)
            Path(base, "model.weights.h5").write_bytes(bytes(range(256)) * 100)
        else:  # a Hugging Face model of an architecture keras-hub cannot convert
            Path(base).mkdir()
            Path(base, "config.json").write_text(json.dumps({"model_type": "perceiver", "architectures": ["X"]}))
    edit_config(project, {"language_model.base": base})
    before = digests(project, ["models/encoder"])
    result = run(cli(["finetune-lm"]), cwd=project, env=stage_env(project))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: language_model.base: ") and message.format(base=base) in last, last
    assert digests(project, ["models/encoder"]) == before
    assert temporary_files(project) == []


def test_a_source_without_test_issues(stage_project):
    """A dump whose `split` column has no test rows, with each label fine-tuning its own encoder
    (`encoder.frozen: false`): every stage copes with the empty split, and evaluate, which has
    nothing to measure, says so in one line."""
    project = stage_project
    raw = [json.loads(line) for line in (project / "data/raw/issues.jsonl").read_text().splitlines()]
    dump = "".join(json.dumps({**issue, "split": "train"}) + "\n" for issue in raw)
    (project / "train_only.jsonl").write_text(dump)
    edit_config(project, {"import.source": "file", "import.file": "train_only.jsonl", "encoder.frozen": False})
    for args in (["import-issues"], ["preprocess"], ["finetune-lm"], ["baseline"], ["train", "--label", "bug"]):
        result = run(cli(args), cwd=project, env=stage_env(project))
        assert result.returncode == 0, f"{args[0]}: {result.stderr[-3000:]}"
    assert (project / "models/classifiers/bug/scores.jsonl").read_text().count('"split": "test"') == 0
    result = run(cli(["evaluate"]), cwd=project, env=stage_env(project))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: data/processed: the test split has no issues, so nothing can be measured;"), last


def test_a_score_file_missing_scores(stage_project):
    """A baseline score file that lost its last lines: evaluate names the file, the label and the
    split, and writes nothing."""
    project = stage_project
    path = project / "models/baseline/scores.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-3]))
    before = digests(project, ["reports", "models/thresholds.json"])
    result = run(cli(["evaluate"]), cwd=project, env=stage_env(project))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: models/baseline/scores.jsonl: expected a score for each of the "), last
    assert " issues of label " in last and "3 missing" in last, last
    assert digests(project, ["reports", "models/thresholds.json"]) == before
