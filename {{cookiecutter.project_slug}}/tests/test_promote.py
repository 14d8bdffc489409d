"""Gates, promotion and rollback: a model goes into service only when it passes its gates, is not
worse than the promoted one and its promoted copy reproduces evaluate's test scores; rollback
brings back the previous model's labels byte for byte. Slow: the pipeline trained on tiny settings."""

import json

import pytest

from conftest import copy_project, package
from {{ cookiecutter.package_name }}.core import files
from {{ cookiecutter.package_name }}.predict import Model, Predictor
from {{ cookiecutter.package_name }}.promote import version_of

pytestmark = pytest.mark.slow
PACKAGE = "{{ cookiecutter.package_name }}"


def cli(folder, *args):
    return package(PACKAGE, *args, cwd=folder)


def labels_of(folder, which="active") -> str:
    """What a promoted model says of the test issues, as JSON text (to compare byte for byte)."""
    predictor = Predictor(Model.at(folder / "deploy" / which))
    issues = files.read_jsonl(folder / "data/raw/issues.jsonl")[:40]
    return json.dumps(predictor.predict(issues, "0.50"), sort_keys=True)


def edit(folder, old, new):
    text = (folder / "config.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "config.yaml").write_text(text.replace(old, new), encoding="utf-8")


def test_check_gates_prints_every_gate_and_fails_when_one_is_missed(trained, tmp_path):
    folder = copy_project(
        trained,
        tmp_path / "p",
        **{"evaluate.gates.macro.f1": 0.01, "evaluate.gates.per_label": {"bug": {"recall": 1.01}}},
    )
    result = cli(folder, "check-gates")
    assert result.returncode == 2, result.stderr
    assert "error: config.yaml: evaluate.gates.per_label.bug.recall: expected a value <= 1" in result.stderr

    folder = copy_project(
        trained,
        tmp_path / "q",
        **{"evaluate.gates.macro.f1": 0.01, "evaluate.gates.per_label": {"bug": {"recall": 1.0}}},
    )
    metrics = files.read_json(folder / "reports/metrics.json")["blend"]
    result = cli(folder, "check-gates")
    assert result.returncode == 2
    assert f"| macro average f1 | 0.01 | {metrics['macro']['f1']:.3f} | met |" in result.stdout
    bug_recall = metrics["labels"]["bug"]["recall"]
    assert f"| bug recall | 1 | {bug_recall:.3f} | {'met' if bug_recall >= 1 else 'MISSED'} |" in result.stdout
    assert result.stderr.strip() == f"error: 1 of 2 gates missed: bug recall {bug_recall:.3f} < 1"

    folder = copy_project(trained, tmp_path / "r", **{"evaluate.gates.macro.f1": 0.01})
    result = cli(folder, "check-gates")
    assert result.returncode == 0 and result.stdout.endswith("all 1 gates met\n")


def test_a_model_under_a_gate_is_not_promoted(trained, tmp_path):
    folder = copy_project(trained, tmp_path / "p", **{"evaluate.gates.macro.f1": 0.999})
    result = cli(folder, "promote")
    assert result.returncode == 2
    assert "error: not promoted: gate missed: macro average f1 " in result.stderr and "< 0.999" in result.stderr
    assert "Traceback" not in result.stderr and not (folder / "deploy/active").exists()


def test_promotion_keeps_the_better_model_and_rollback_restores_the_previous_one(trained, tmp_path):
    folder = copy_project(trained, tmp_path / "p", **{"evaluate.gates.macro.f1": 0.0})
    result = cli(folder, "promote")
    assert result.returncode == 0, result.stderr
    first = files.read_json(folder / "deploy/versions.json")["active"]
    assert first["version"] == version_of(folder / "deploy/active") and "test scores reproduced" in result.stdout
    assert first["text"]["lowercase"] is True and first["encoder"]["sequence_length"] == 32
    before = labels_of(folder)
    assert cli(folder, "promote").stdout.strip().endswith("nothing to do")  # the same model again

    # the classifier alone: another model, and (tiny settings) a worse one than the blend
    edit(folder, "baseline_weight: auto", "baseline_weight: 0.0")
    assert package(f"{PACKAGE}.stages.evaluate", cwd=folder).returncode == 0
    new_f1 = files.read_json(folder / "reports/metrics.json")["classifier"]["macro"]["f1"]
    assert new_f1 < first["macro_f1"] - 0.02, "the tiny classifier alone was expected to be worse than the blend"
    result = cli(folder, "promote")
    assert result.returncode == 2
    assert f"worse than the promoted model: macro average f1 {new_f1:.3f} < promoted {first['macro_f1']:.3f}" in (
        result.stderr
    )
    assert f"the promoted model ({first['version']}) stays in service" in result.stderr
    assert files.read_json(folder / "deploy/versions.json")["active"]["version"] == first["version"]

    edit(folder, "max_regression: 0.02", "max_regression: 1.0")
    result = cli(folder, "promote")
    assert result.returncode == 0, result.stderr
    versions = files.read_json(folder / "deploy/versions.json")
    assert versions["backup"]["version"] == first["version"] != versions["active"]["version"]
    assert labels_of(folder) != before

    result = cli(folder, "rollback")
    assert result.returncode == 0 and result.stdout.startswith(f"rolled back to version {first['version']}")
    assert files.read_json(folder / "deploy/versions.json")["active"]["version"] == first["version"]
    assert version_of(folder / "deploy/active") == first["version"]
    assert labels_of(folder) == before  # byte for byte


def test_a_model_whose_copy_does_not_reproduce_its_scores_is_not_promoted(trained, tmp_path):
    folder = copy_project(trained, tmp_path / "p", **{"evaluate.gates.macro.f1": None})
    rows = files.read_jsonl(folder / "reports/test_predictions.jsonl")
    slug = next(iter(rows[0]["scores"]))
    rows[0]["scores"][slug] += 1e-3  # as if prediction normalised or encoded differently from training
    files.write_jsonl(folder / "reports/test_predictions.jsonl", rows)
    result = cli(folder, "promote")
    assert result.returncode == 2
    assert "error: not promoted: the prediction path's test scores differ from evaluate's by up to 0.001" in (
        result.stderr
    )
    assert not (folder / "deploy/active").exists() and not (folder / "deploy/.staged").exists()
