"""Preemption: a training stage killed (SIGKILL) or stopped (SIGTERM) at any point resumes from
its checkpoint and ends with exactly the outputs of an uninterrupted run."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import SRC, package, set_keys

pytestmark = pytest.mark.slow
PACKAGE = "{{ cookiecutter.package_name }}"

STAGES = {
    # case: (command, the output compared, config changes)
    "train, encoder and head": (["train", "--label", "bug"], "models/bug/scores.jsonl",
                                {"classifier.params.epochs": 6, "classifier.params.patience": 10,
                                 "encoder.frozen": False,
                                 "classifier.params.checkpoint_every_steps": 2}),
    "finetune_lm, masked LM": (["finetune-lm"], "encoder/model.weights.h5",
                               {"language_model.finetune.epochs": 6,
                                "language_model.finetune.checkpoint_every_steps": 2,
                                "language_model.supervised.enabled": False}),
    "finetune_lm, supervised": (["finetune-lm"], "encoder/model.weights.h5",
                                {"language_model.finetune.enabled": False,
                                 "language_model.supervised.epochs": 6,
                                 "language_model.supervised.checkpoint_every_steps": 2}),
}  # fmt: skip


def write_config(project, name: str, changes: dict) -> str:
    """A copy of config.yaml whose outputs and checkpoints go under `name/`."""
    config = set_keys(yaml.safe_load((project / "config.yaml").read_text()), changes)
    paths = config["paths"]
    paths.update(classifiers=f"{name}/models", training_logs=f"{name}/logs", checkpoints=f"{name}/checkpoints")
    if "finetune-lm" in name:
        paths["encoder"] = f"{name}/encoder"
    (project / f"{name}.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return f"{name}.yaml"


def command(config: str, args: list[str]) -> list[str]:
    return [PACKAGE, "--config", config, *args]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def interrupt(project, config: str, args: list[str], how: signal.Signals, rng: random.Random) -> subprocess.Popen:
    """Start the stage and signal it at a random point of an epoch that has at least two more after it.

    The wait is counted in epochs, timed from the stage's own progress lines, not in seconds: on a
    faster machine the stage must not finish before the signal comes."""
    process = subprocess.Popen(  # the stage line-buffers stdout: each progress line comes as it is printed
        [sys.executable, "-m", *command(config, args)], cwd=project, env={**os.environ, "PYTHONPATH": str(SRC)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stamps, last = [], None
    for line in process.stdout:
        if not line.startswith("epoch "):
            continue
        stamps.append(time.perf_counter())
        done, total = map(int, line.split(":")[0].removeprefix("epoch ").split("/"))
        last = last or rng.randint(2, total - 3)  # the epoch whose end starts the wait
        if done == last:
            break
    epoch_seconds = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    time.sleep(rng.uniform(0.0, 1.0) * epoch_seconds)
    process.send_signal(how)
    process.wait(timeout=120)
    return process


@pytest.mark.parametrize("stage", list(STAGES))
def test_killed_and_resumed_equals_uninterrupted(trained, stage):
    args, output, changes = STAGES[stage]
    case = f"{args[0]}-{list(STAGES).index(stage)}"  # names the case's output folders
    project = trained
    straight = write_config(project, f"straight-{case}", changes)
    assert package(*command(straight, args), cwd=project).returncode == 0
    expected = digest(project / f"straight-{case}" / output)

    rng = random.Random(stage)
    for attempt, how in enumerate([signal.SIGKILL, signal.SIGTERM, signal.SIGKILL]):
        name = f"interrupted-{case}-{attempt}"
        config = write_config(project, name, changes)
        stopped = interrupt(project, config, args, how, rng)
        if how == signal.SIGTERM:
            assert stopped.returncode == 143
            stderr = stopped.stderr.read()
            assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
        else:
            assert stopped.returncode == -signal.SIGKILL
        assert not (project / name / output).exists(), "no output from an interrupted stage"
        assert (project / name / "checkpoints").exists()

        resumed = package(*command(config, args), cwd=project)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "resuming from" in resumed.stderr
        assert digest(project / name / output) == expected, f"attempt {attempt} ({how.name}) differs"
        assert not any((project / name / "checkpoints").rglob("*.npz")), "checkpoints are removed at the end"


def test_changed_config_discards_the_checkpoint(trained):
    args, output, changes = STAGES["train, encoder and head"]
    project = trained
    config = write_config(project, "changed-train", changes)
    stopped = interrupt(project, config, args, signal.SIGKILL, random.Random(0))
    assert stopped.returncode == -signal.SIGKILL
    config = write_config(project, "changed-train", {**changes, "classifier.params.batch_size": 16})
    resumed = package(*command(config, args), cwd=project)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "is for another config or data: starting over" in resumed.stderr


def test_damaged_checkpoint_starts_over(trained):
    """A checkpoint file that cannot be read (a disk fault, a bad copy) is no resume point: the stage
    says so and trains from the beginning, to the same result as an uninterrupted run."""
    args, output, changes = STAGES["train, encoder and head"]
    project = trained
    config = write_config(project, "damaged-train", changes)
    folder = project / "damaged-train/checkpoints/train/bug/fit"
    folder.mkdir(parents=True)
    (folder / "checkpoint.npz").write_bytes(b"PK\x03\x04 not a zip file")
    result = package(*command(config, args), cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"checkpoint {folder.relative_to(project)}/checkpoint.npz is unreadable (" in result.stderr
    assert "starting over" in result.stderr and "Traceback" not in result.stderr
    straight = "straight-train-0"  # the first resume case's uninterrupted run, when it ran
    if not (project / straight / output).exists():
        config = write_config(project, straight, changes)
        assert package(*command(config, args), cwd=project).returncode == 0
    assert digest(project / "damaged-train" / output) == digest(project / straight / output)
