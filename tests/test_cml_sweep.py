"""The sweep workflow's scripts (sweep.yaml) off GitHub. The input parsed into a matrix and
checked against config.yaml (scripts/cml/sweep_matrix.py). Then a sweep as its jobs would run
it: each experiment by scripts/cml/sweep_experiment.sh on a machine of its own (a clone of a bare
`origin`) against a real DVC remote (moto's S3), two that finish and one that fails, pushing
what it finished; and one comparison posted by scripts/cml/sweep_compare.sh from another clone,
with a stand-in `cml`.

The project starts from the session's trained tiny outputs (test_cml_train.cloud_project), and
the experiments vary evaluate's parameters: each re-runs evaluate alone."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import test_cml_train
from cml_stubs import FakeGitHub, cml_calls, stub_cml
from conftest import bake, project_env, run
from test_cml_train import cloud_project, git, point_at_emulator

storage, trained = test_cml_train.storage, test_cml_train.trained  # its fixtures: an emulator, the trained outputs

RUN_ID = "77"
SWEEP = (  # as typed into the workflow's input: `;` or a new line between experiments
    "evaluate.threshold_policy=target_precision evaluate.target_precision=0.6; "
    "-S config.yaml:evaluate.threshold_policy=target_precision -S config.yaml:evaluate.target_precision=0.8\n"
    "evaluate.threshold_policy=best"  # not a policy: evaluate fails, after the stages before it
)


@pytest.fixture(scope="module")
def baked_aws(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweep")
    assert bake(out, cloud="aws").returncode == 0
    return out / "issue-triage"


def plan(project: Path, text: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict | None]:
    """sweep_matrix.py as the workflow's first job runs it: the matrix it writes to $GITHUB_OUTPUT."""
    output = tmp_path / "github_output"
    output.write_text("")
    env = project_env(project) | {"SWEEP_EXPERIMENTS": text, "GITHUB_RUN_ID": RUN_ID, "GITHUB_OUTPUT": str(output)}
    result = run([sys.executable, "scripts/cml/sweep_matrix.py"], cwd=project, env=env)
    lines = output.read_text().splitlines()
    assert len(lines) <= 1
    return result, json.loads(lines[0].removeprefix("matrix=")) if lines else None


def test_the_input_becomes_a_matrix(baked_aws, tmp_path):
    text = SWEEP + "\n\n++labels.bug.learning_rate=0.003 'label.default_label=needs triage';~classifier.params.patience"
    result, matrix = plan(baked_aws, text, tmp_path)
    assert result.returncode == 0, result.stderr
    experiments = matrix["experiment"]
    assert [e["index"] for e in experiments] == [1, 2, 3, 4, 5]
    assert [e["name"] for e in experiments] == [f"sweep-{RUN_ID}-{n}" for n in range(1, 6)]
    assert [e["params"].splitlines() for e in experiments] == [
        ["config.yaml:evaluate.threshold_policy=target_precision", "config.yaml:evaluate.target_precision=0.6"],
        ["config.yaml:evaluate.threshold_policy=target_precision", "config.yaml:evaluate.target_precision=0.8"],
        ["config.yaml:evaluate.threshold_policy=best"],
        ["config.yaml:++labels.bug.learning_rate=0.003", "config.yaml:label.default_label=needs triage"],
        ["config.yaml:~classifier.params.patience"],
    ]
    assert experiments[3]["title"] == "++labels.bug.learning_rate=0.003 'label.default_label=needs triage'"
    assert "sweep-77-2: dvc exp run -S config.yaml:evaluate.threshold_policy=target_precision -S" in result.stdout


BAD_SWEEPS = {
    "empty": ("  ;\n ", "no experiment given"),
    "too many": (";".join(f"seed={n}" for n in range(9)), "9 experiments given; a sweep runs at most 8"),
    "unknown key": ("classifier.params.epoch=5", "'epoch' is not a key of config.yaml under classifier.params; "
                                                 "did you mean 'epochs'?"),
    "under a value": ("seed.x=1", "seed.x=1: seed is a value, not a section with keys"),
    "no value": ("seed", "seed: expected KEY=VALUE"),
    "another file": ("params.yaml:seed=1", "the params file is config.yaml; found params.yaml"),
    "a key twice": ("seed=1 seed=2", "experiment 1: seed set more than once"),
    "repeated": ("seed=1; seed=2\nseed=1", "experiment 3 repeats experiment 1: seed=1"),
    "open quote": ("label.default_label='needs", "No closing quotation"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_SWEEPS))
def test_a_bad_input_fails_before_any_machine_starts(baked_aws, tmp_path, case):
    text, message = BAD_SWEEPS[case]
    result, matrix = plan(baked_aws, text, tmp_path)
    assert result.returncode == 2 and matrix is None
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line, line


def test_git_signs_in_with_the_token_from_the_environment(baked_aws):
    script = 'source scripts/cml/git_auth.sh && "$GIT_ASKPASS" "Username for x: " && "$GIT_ASKPASS" "Password for y: "'
    env = dict(os.environ, REPO_TOKEN="t0ken")
    result = run(["bash", "-c", script], cwd=baked_aws, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["x-access-token", "t0ken"]
    assert "t0ken" not in (baked_aws / ".git/config").read_text()
    unset = run(["bash", "-c", 'source scripts/cml/git_auth.sh && echo "${GIT_ASKPASS:-none}"'], cwd=baked_aws,
                env={k: v for k, v in os.environ.items() if k not in ("REPO_TOKEN", "GIT_ASKPASS")})  # fmt: skip
    assert unset.stdout.strip() == "none"


def experiment_sh(clone: Path, experiment: dict, remote_env: dict) -> subprocess.CompletedProcess:
    env = project_env(clone) | remote_env | {
        "SWEEP_NAME": experiment["name"], "SWEEP_PARAMS": experiment["params"], "CML_ALLOW_CPU": "1",
    }  # fmt: skip
    env.pop("REPO_TOKEN", None)  # the bare origin needs no token
    return run(["scripts/cml/sweep_experiment.sh"], cwd=clone, env=env, timeout=300)


def assert_pushed(clone: Path, remote_env: dict) -> None:
    """Every output of the clone's workspace is on the DVC remote."""
    status = run([sys.executable, "-m", "dvc", "status", "--cloud"], cwd=clone, env=project_env(clone) | remote_env)
    assert "Cache and remote 'storage' are in sync" in status.stdout, status.stdout + status.stderr


def table_rows(markdown: str) -> dict[str, dict[str, str]]:
    """The comparison's `dvc exp show --md` table: each row (by experiment name, `baseline` for the
    first row) as {column: cell}."""
    table = markdown[markdown.index("| Experiment ") :].split("\n\n")[0].splitlines()
    header, _, *lines = ([cell.strip() for cell in line.strip("|").split("|")] for line in table)
    rows = {}
    for index, cells in enumerate(lines):
        name = cells[0].split("[")[-1].rstrip("]") if index else "baseline"
        rows[name] = dict(zip(header, cells))
    return rows


@pytest.mark.parametrize("storage", ["aws"], indirect=True)
def test_a_sweep_on_three_machines_and_one_comparison(storage, trained, tmp_path):
    cloud, remote_env, local_remote = storage
    project = cloud_project(tmp_path / "work", trained, cloud, local_remote)
    origin = tmp_path / "work/origin.git"
    env = project_env(project) | remote_env
    # the branch's baseline, as a training run leaves it: dvc.lock and metrics committed, outputs on the remote
    for command in (["repro"], ["push", "--run-cache"]):
        result = run([sys.executable, "-m", "dvc", *command], cwd=project, env=env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Trained [skip ci]")
    git(project, "push", "--quiet", "origin", "HEAD:main")
    baseline = json.loads((project / "reports/metrics.json").read_text())

    result, matrix = plan(project, SWEEP, tmp_path)
    assert result.returncode == 0, result.stderr
    experiments = matrix["experiment"]
    metrics = {}
    for experiment in experiments:  # each matrix job on a fresh machine: a clone of origin
        clone = tmp_path / f"machine-{experiment['index']}"
        git(tmp_path, "clone", "--quiet", str(origin), str(clone))
        point_at_emulator(clone, local_remote)
        result = experiment_sh(clone, experiment, remote_env)
        output = result.stdout + result.stderr
        (tmp_path / f"machine-{experiment['index']}.log").write_text(output)
        assert "Running stage 'evaluate'" in output and "Running stage 'train'" not in output, output[-4000:]
        if experiment["index"] == 3:  # evaluate failed: what the stages before it made is on the remote
            assert result.returncode != 0 and "threshold_policy" in result.stderr, output[-4000:]
            assert re.search(r"\d+ files? pushed|Everything is up to date", result.stdout), output[-4000:]  # the trap's
            assert_pushed(clone, remote_env)
            continue
        assert result.returncode == 0, output[-4000:]
        metrics[experiment["name"]] = json.loads((clone / "reports/metrics.json").read_text())
        assert_pushed(clone, remote_env)

    # the finished experiments are on the Git remote, derived from the baseline commit
    sha = git(project, "rev-parse", "HEAD")
    refs = git(origin, "for-each-ref", "--format=%(refname)", "refs/exps").splitlines()
    assert sorted(refs) == [f"refs/exps/{sha[:2]}/{sha[2:]}/sweep-{RUN_ID}-{n}" for n in (1, 2)], refs

    # the comparison, from another machine: one comment on the commit, with every experiment
    compare = tmp_path / "compare"
    git(tmp_path, "clone", "--quiet", str(origin), str(compare))
    stubs = tmp_path / "stubs"
    stub_cml(stubs)
    github = FakeGitHub({})  # no pull request for the branch: the comment goes to the commit
    try:
        env = project_env(compare) | {
            "PATH": f"{stubs}{os.pathsep}{project_env(compare)['PATH']}", "SWEEP_MATRIX": json.dumps(matrix),
            "CML_REPORT_DIR": str(tmp_path / "report"), "REPO_TOKEN": "t0ken", "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": "octo-org/octo-repo", "GITHUB_REF_NAME": "main", "GITHUB_SHA": sha,
            "GITHUB_RUN_ID": RUN_ID,
        }  # fmt: skip
        result = run(["scripts/cml/sweep_compare.sh"], cwd=compare, env=env)
    finally:
        github.close()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (call,) = cml_calls(stubs)
    assert call[:2] == ["comment", "update"]
    assert f"--target=commit/{sha}" in call and f"--watermark-title=cml sweep {RUN_ID}" in call
    comparison = (stubs / "report.md").read_text()
    assert comparison == (tmp_path / "report/comparison.md").read_text()

    rows = table_rows(comparison)
    assert list(rows) == ["baseline", f"sweep-{RUN_ID}-1", f"sweep-{RUN_ID}-2"], comparison
    assert rows["baseline"]["Experiment"] == "main"
    assert [row["Experiment"].split()[0] for row in rows.values()] == ["main", "├──", "└──"]
    expected = {"baseline": ("max_f1", 0.75, baseline)} | {
        f"sweep-{RUN_ID}-{n}": ("target_precision", precision, metrics[f"sweep-{RUN_ID}-{n}"])
        for n, precision in ((1, 0.6), (2, 0.8))
    }
    for name, (policy, precision, values) in expected.items():
        row = rows[name]
        assert row["evaluate.threshold_policy"] == policy and float(row["evaluate.target_precision"]) == precision
        for model in ("classifier", "baseline", "blend"):  # every model's macro averages, as evaluate wrote them
            for metric in ("precision", "recall", "f1", "average_precision"):
                cell = row[f"{model}.macro.{metric}"]
                assert float(cell) == pytest.approx(values[model]["macro"][metric], abs=1e-5), (name, model, metric)
        assert not any(".labels." in column for column in row)  # per-label columns left out
    assert rows[f"sweep-{RUN_ID}-1"]["blend.macro.precision"] != rows[f"sweep-{RUN_ID}-2"]["blend.macro.precision"]
    # and the list of the sweep's experiments: the failed one named missing
    assert "| sweep-77-1 | `evaluate.threshold_policy=target_precision evaluate.target_precision=0.6` | done |" in (
        comparison
    )
    assert "| sweep-77-3 | `evaluate.threshold_policy=best` | **missing**" in comparison
