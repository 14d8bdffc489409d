"""Awkward answers end to end: a baked project with labels named `../etc`, labels that cannot be
learned, no DVC remote. (The faults that meet each stage, a full disk and signals at the worst
moment, are the generated project's own tests: tests/test_faults.py there.)"""

from __future__ import annotations

import json
import sys

import yaml

from conftest import TINY, bake, dvc, edit_config, project_env, run


def cli(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "issue_triage", *args]


def test_checkpoints_without_a_remote(tmp_path):
    """`checkpoints pull` in a project with no DVC remote (cloud: none)."""
    assert bake(tmp_path).returncode == 0
    project = tmp_path / "issue-triage"
    result = run(cli(["checkpoints", "pull"]), cwd=project, env=project_env(project))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: checkpoints: expected a default DVC remote to keep them in (`dvc remote add --default NAME URL`); "
        "found none"
    ]


def test_awkward_labels_end_to_end(tmp_path):
    """Labels named `../etc`, `good first issue` (only in the test split) and `🐛 crash` (on one
    issue): `dvc repro` trains `../etc` as the slug `etc` inside the project and writes nothing
    outside it; the other two cannot be learned and are dropped with a warning that names them and
    their counts, as preprocess.min_examples says."""
    labels = ["bug", "../etc", "good first issue", "🐛 crash"]
    assert bake(tmp_path, labels=", ".join(labels)).returncode == 0
    project = tmp_path / "issue-triage"
    issues = [
        {"number": n, "title": f"{'Crash' if n % 2 else 'Config path'} {n}", "body": "text " * (n % 7),
         "labels": ["bug" if n % 2 else "../etc"] + (["🐛 crash"] if n == 7 else [])}
        for n in range(1, 121)
    ]  # fmt: skip
    test = [{"number": 200 + n, "title": f"Crash {n}", "body": "b", "labels": ["bug" if n % 2 else "../etc"]}
            for n in range(20)]  # fmt: skip
    test += [{"number": 300 + n, "title": "Easy one", "body": "b", "labels": ["good first issue"]} for n in range(3)]
    for name, rows in (("train.jsonl", issues), ("test.jsonl", test)):
        (project / name).write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    edit_config(
        project, TINY | {"import.source": "file", "import.file": "train.jsonl", "import.test_file": "test.jsonl"}
    )
    before = sorted(path.name for path in tmp_path.iterdir())

    result = dvc(project, "repro")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    dropped = "'good first issue' (0 train, 0 val, 3 test), '🐛 crash' (1 train, 0 val, 0 test)"
    assert f"warning: dropping labels with fewer than preprocess.min_examples (2) training issues: {dropped}" in (
        result.stderr
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == before  # nothing beside the project
    assert not (project / "models/etc").exists() and not (project / "etc").exists()
    assert (project / "models/classifiers/etc/scores.jsonl").stat().st_size > 0
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert set(metrics["classifier"]["labels"]) == {"bug", "etc"}
    report = (project / "reports/report.md").read_text()
    assert "| ../etc | classifier |" in report and "| good first issue | – | dropped: 0 training issues |" in report

    wrong = run(cli(["train", "--label", "../etc"]), cwd=project, env=project_env(project))
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines() == [
        "error: --label: expected one of bug, etc, good-first-issue, crash; found '../etc'"
    ]
    predicted = run(cli(["predict", "--title", "Config path broken"]), cwd=project, env=project_env(project))
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    assert set(json.loads(predicted.stdout)["scores"]) == {"bug", "../etc"}
    config = yaml.safe_load((project / "config.yaml").read_text())
    assert config["labels"]["etc"]["name"] == "../etc"
