"""`dvc repro` on a baked project with a tiny config: outputs, no-op re-runs, targeted re-runs,
determinism, and bad input failing cleanly."""

from __future__ import annotations

import json
import re
import shutil
import sys

import pytest
import yaml

from conftest import bake, dvc, edit_config, project_env, run


def stages_run(result) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", result.stdout + result.stderr))


@pytest.fixture(scope="module")
def project(trained_project):
    return trained_project


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_metrics_for_every_label(project):
    metrics = json.loads((project / "reports/metrics.json").read_text())
    for model in ("classifier", "baseline", "blend"):  # blend: evaluate.baseline_weight > 0 by default
        labels = metrics[model]["labels"]
        assert set(labels) == {"bug", "enhancement", "question", "documentation"}
        for values in labels.values():
            for key in ("precision", "recall", "f1", "roc_auc", "average_precision"):
                assert 0.0 <= values[key] <= 1.0, (model, key, values)
        assert 0.0 <= metrics[model]["macro"]["f1"] <= 1.0
        assert 0.0 <= metrics[model]["micro"]["f1"] <= 1.0
    report = (project / "reports/report.md").read_text()
    assert "| bug | classifier |" in report and "| bug | baseline |" in report and "| bug | blend |" in report
    weight = json.loads((project / "models/thresholds.json").read_text())["baseline_weight"]  # chosen on val
    assert f"Prediction uses `blend` ({1 - weight:g} classifier + {weight:g} baseline scores, the weight" in report
    assert "The baseline's text rules (`baseline.text`)" in report


def test_one_prediction_per_test_issue(project):
    processed = read_jsonl(project / "data/processed/issues.jsonl")
    test_numbers = [row["number"] for row in processed if row["split"] == "test"]
    predictions = read_jsonl(project / "reports/test_predictions.jsonl")
    assert [p["number"] for p in predictions] == test_numbers
    for prediction in predictions:
        assert set(prediction["scores"]) == {"bug", "enhancement", "question", "documentation"}
        assert set(prediction["predicted"]) <= set(prediction["scores"])


def test_second_repro_runs_nothing(project):
    result = dvc(project, "repro")
    assert result.returncode == 0
    assert stages_run(result) == set()


def test_one_label_hyperparameter_reruns_that_label_and_evaluate(project):
    """A label's own value sits under the label: its training and the evaluation re-run, and
    preprocess, which reads the labels' names (its output unchanged, so nothing else follows)."""
    edit_config(project, {"labels.bug.learning_rate": 0.002})
    result = dvc(project, "repro")
    assert result.returncode == 0, result.stderr
    assert stages_run(result) == {"preprocess", "train", "evaluate"}
    assert "bug: classifier saved" in result.stdout and "1 trained, 3 unchanged (kept)" in result.stdout


EDITS = {  # module: (a function's first line, a statement added to it that changes no result), stages re-run
    "report.py": (("def _cell(value) -> str:\n", "    value = value if value != () else None\n"), {"evaluate"}),
    "evaluate.py": (("def predicted(scores: np.ndarray, threshold: float | None) -> np.ndarray:\n",
                     "    scores = np.asarray(scores)\n"), {"evaluate"}),
    "baseline.py": (("def _features(vectorizer: TfidfVectorizer | TitledVectorizer, texts: list[str]):\n",
                     "    texts = list(texts)\n"),
                    {"baseline", "evaluate"}),
}  # fmt: skip


@pytest.mark.parametrize("module", list(EDITS))
def test_a_code_edit_reruns_only_the_stages_that_import_it(project, module):
    """Editing a function that only evaluate uses re-runs evaluate alone: never the encoder or a label."""
    (line, added), stages = EDITS[module]
    path = project / "src/issue_triage" / module
    original = path.read_text()
    assert line in original
    try:
        path.write_text(original.replace(line, line + added, 1))
        result = dvc(project, "repro")
        assert result.returncode == 0, result.stderr
        assert stages_run(result) == stages
    finally:
        path.write_text(original)
    assert dvc(project, "repro").returncode == 0


def test_retraining_is_deterministic(project):
    """One label retrained (`train --label`) gives the same bytes: the pipeline is up to date."""
    scores = (project / "models/classifiers/question/scores.jsonl").read_bytes()
    metrics = (project / "reports/metrics.json").read_bytes()
    result = run([sys.executable, "-m", "issue_triage", "train", "--label", "question"], cwd=project,
                 env=project_env(project))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "train: 1 trained, 0 unchanged (kept)" in result.stdout
    assert (project / "models/classifiers/question/scores.jsonl").read_bytes() == scores
    result = dvc(project, "repro")  # train again (its curves hold timings), keeping every label: the same metrics
    assert result.returncode == 0 and stages_run(result) <= {"train", "evaluate"}, result.stdout
    assert "train: 0 trained, 4 unchanged (kept)" in result.stdout
    assert (project / "reports/metrics.json").read_bytes() == metrics


BAD_INPUTS = {
    "wrong type": ({"classifier.params.epochs": "ten"}, "classifier.params.epochs: expected an integer; found string"),
    "unknown key": ({"classifier.params.epoch": 3}, "classifier.params.epoch: unknown key; did you mean 'epochs'?"),
    "min > max": (
        {"classifier.tuning.tune": True, "classifier.tuning.hyperparams.dropout.tuning.min": 0.9},
        "classifier.tuning.hyperparams.dropout.tuning.min: expected a value <= max (0.5); found 0.9",
    ),
    "label a/b": ({"labels.a/b": {"name": "a/b", "aliases": []}}, "labels.a/b: expected a slug"),
    "emoji label": ({"labels.🐛": {"name": "🐛", "aliases": []}}, "labels.🐛: expected a slug"),
    "empty data file": ({"import.source": "file", "import.file": "empty.jsonl"}, "no issues found"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_clearly_and_leaves_no_output(tmp_path, case):
    changes, message = BAD_INPUTS[case]
    assert bake(tmp_path).returncode == 0
    project = tmp_path / "issue-triage"
    (project / "empty.jsonl").write_text("")
    edit_config(project, changes)
    result = dvc(project, "repro")
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    for output in ("data/raw", "data/processed", "models", "reports"):
        assert not (project / output).exists(), output
    shutil.rmtree(project)


@pytest.mark.parametrize("tuner", ["random", "hyperband"])
def test_keras_tuner_search(project, tuner):
    """`classifier.tuning.tune: true` searches the configured space; the best values are saved."""
    config = yaml.safe_load((project / "config.yaml").read_text())
    config["classifier"]["tuning"].update(tune=True, tuner=tuner, max_trials=2)
    config["classifier"]["params"]["epochs"] = 2
    config["paths"].update(classifiers=f"tuned-{tuner}/models", training_logs=f"tuned-{tuner}/logs")
    (project / f"tuned-{tuner}.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    command = [sys.executable, "-m", "issue_triage", "--config", f"tuned-{tuner}.yaml", "train", "--label", "question"]
    result = run(command, cwd=project, env=project_env(project))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((project / f"tuned-{tuner}/models/question/hyperparameters.json").read_text())
    assert report["tuned"] is True and report["tuner"] == tuner and len(report["trials"]) >= 2
    values = report["values"]
    assert 0.0003 <= values["learning_rate"] <= 0.01 and 0.0 <= values["dropout"] <= 0.5
    assert values["hidden_units"] == config["classifier"]["tuning"]["hyperparams"]["hidden_units"]["default_value"]
