"""A local sweep, as the generated README shows it: two experiments queued with different `-S`
values (`dvc exp run --queue`), run side by side by two workers (`dvc queue start -j 2`), give two
experiments in `dvc exp show` with their own params and metrics. On a copy of the session's
trained tiny project, committed: the experiments vary evaluate's parameters, so each re-runs
evaluate alone (the other stages' outputs come from the shared cache)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import dvc, project_env, run

PRECISIONS = (0.6, 0.8)


def queue_tasks(status: str) -> list[str]:
    """Each task's status in `dvc queue status` (its table: Task, Name, Created, Status)."""
    table = status.split("\n\n")[0].splitlines()[1:]  # then "Worker status: ..."
    return [line.split()[-1] for line in table if line.strip()]


def start_workers(project: Path, log: Path) -> str:
    """`dvc queue start -j 2`, its output to a file: the workers it forks inherit its stdout, so
    capturing that through a pipe would wait for the workers to exit."""
    with log.open("w") as out:
        command = [sys.executable, "-m", "dvc", "queue", "start", "-j", "2"]
        started = subprocess.run(command, cwd=project, env=project_env(project), stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip
    assert started.returncode == 0, log.read_text()
    return log.read_text()


def worker_logs(project: Path) -> str:
    """What the queue's workers printed (dvc-task writes each one's output to a `.out` file)."""
    logs = sorted((project / ".dvc" / "tmp" / "exps").rglob("*.out"))
    return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in logs)


def queue_settled(project: Path, timeout: float = 600) -> str:
    """`dvc queue status` once no task is queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        status = dvc(project, "queue", "status")
        assert status.returncode == 0, status.stderr
        if not {"Queued", "Running"} & set(queue_tasks(status.stdout)):
            return status.stdout
        if time.monotonic() > deadline:
            pytest.fail(f"the queue did not finish in {timeout:g} s:\n{status.stdout}\n{worker_logs(project)}")
        time.sleep(2)


def test_two_queued_experiments_run_side_by_side(trained_project, tmp_path):
    project = tmp_path / "issue-triage"
    shutil.copytree(trained_project, project, symlinks=True,
                    ignore=lambda folder, names: ["tmp"] if Path(folder).name == ".dvc" else [])  # fmt: skip
    for command in (["add", "--all"], ["commit", "--quiet", "--message", "Trained"]):
        assert run(["git", *command], cwd=project, env=project_env(project)).returncode == 0

    for precision in PRECISIONS:  # as the README shows them
        queued = dvc(project, "exp", "run", "--queue", "-S", "config.yaml:evaluate.threshold_policy=target_precision",
                     "-S", f"config.yaml:evaluate.target_precision={precision}")  # fmt: skip
        assert queued.returncode == 0, queued.stderr
        assert "Queued experiment" in queued.stdout
    try:
        started = start_workers(project, tmp_path / "queue-start.log")
        assert "Started '2' new experiments task queue workers" in started
        status = queue_settled(project)
    finally:
        dvc(project, "queue", "stop")
    assert queue_tasks(status) == ["Success", "Success"], status

    shown = dvc(project, "exp", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    (head,) = [rev for rev in json.loads(shown.stdout) if rev["rev"] != "workspace"]
    experiments = {}
    for experiment in head["experiments"]:
        (rev,) = experiment["revs"]
        data = rev["data"]
        evaluate = data["params"]["config.yaml"]["data"]["evaluate"]
        assert evaluate["threshold_policy"] == "target_precision"
        metrics = data["metrics"]["reports/metrics.json"]["data"]
        experiments[rev["name"]] = (evaluate["target_precision"], metrics["blend"]["macro"])
    assert len(experiments) == 2 and sorted(precision for precision, _ in experiments.values()) == list(PRECISIONS)
    (_, low), (_, high) = sorted(experiments.values(), key=lambda item: item[0])
    assert low != high  # each its own metrics

    for name in experiments:  # only evaluate ran: the rest came from the cache
        logs = dvc(project, "queue", "logs", name)
        assert logs.returncode == 0, logs.stderr
        log = logs.stdout
        assert "Running stage 'evaluate'" in log and "Running stage 'train'" not in log, log[-3000:]
