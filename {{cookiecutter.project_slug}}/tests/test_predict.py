"""The one prediction path gives the scores evaluate measured (train/serve consistency), encoding
each issue once for all labels. Slow: it uses the pipeline trained on the tiny settings."""

import json
import pickle

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from conftest import copy_project, package
from {{ cookiecutter.package_name }} import baseline
from {{ cookiecutter.package_name }}.core import files
from {{ cookiecutter.package_name }}.core.config import load_config
from {{ cookiecutter.package_name }}.predict import Predictor
from {{ cookiecutter.package_name }}.predict import trained as trained_model  # `trained`: the fixture

pytestmark = pytest.mark.slow


def raw_test_issues(folder):
    processed = {row["number"]: row for row in files.read_jsonl(folder / "data/processed/issues.jsonl")}
    raw = files.read_jsonl(folder / "data/raw/issues.jsonl")
    return [issue for issue in raw if processed[issue["number"]]["split"] == "test"]


def test_predict_scores_new_issues_as_evaluate_did(trained, monkeypatch):
    monkeypatch.chdir(trained)
    issues = raw_test_issues(trained)
    expected = {p["number"]: p for p in files.read_jsonl(trained / "reports/test_predictions.jsonl")}
    predictor = Predictor(trained_model(load_config("config.yaml")))
    scores = predictor.scores(issues)
    for i, issue in enumerate(issues):
        for slug, score in scores.items():
            assert score[i] == pytest.approx(expected[issue["number"]]["scores"][slug], abs=1e-6)

    files.write_jsonl(trained / "new.jsonl", issues)
    result = package("{{ cookiecutter.package_name }}", "predict", "new.jsonl", cwd=trained)
    assert result.returncode == 0, result.stderr
    names = {slug: info["name"] for slug, info in files.read_json(trained / "models/thresholds.json")["labels"].items()}
    for line in result.stdout.splitlines():
        item = json.loads(line)
        want = expected[item["number"]]
        assert item["scores"] == pytest.approx({names[slug]: s for slug, s in want["scores"].items()}, abs=1e-4)
        assert sorted(item["labels"]) == sorted(names[slug] for slug in want["predicted"])


def test_each_issue_is_encoded_once_for_all_labels(trained, monkeypatch):
    monkeypatch.chdir(trained)
    predictor = Predictor(trained_model(load_config("config.yaml")))
    calls, forward = [], predictor._forward  # the encoder and every head, in one function

    def counted(texts):
        calls.append(len(texts))
        return forward(texts)

    monkeypatch.setattr(predictor, "_forward", counted)
    scores = predictor.scores([{"title": title} for title in ("crash on save", "add dark mode", "how do i configure")])
    assert calls == [3] and len(scores) == len(predictor.heads) > 1


@pytest.mark.parametrize("option", [{"strip_code_blocks": "marker"}, {"title_ngrams": True}])
def test_the_baseline_reads_issues_with_its_own_text_rules(trained, tmp_path, monkeypatch, option):
    """The baseline's text rules (baseline.text) may differ from preprocess.text: its models, the
    scores evaluate measured and prediction's scores all come from its own."""
    tried = files.read_json(trained / "models/baseline/text.json")["cross_validated"]  # the template's options
    assert len(tried) == 5 and sum(option["chosen"] for option in tried) == 1
    assert all(0 < option["mean_average_precision"] <= 1 for option in tried)
    report = (trained / "reports/report.md").read_text(encoding="utf-8")
    assert "| preprocess.text as it is |" in report and "| strip_code_blocks: marker |" in report

    changes = {"baseline.text.options": [option], "evaluate.baseline_weight": 0.5}
    folder = copy_project(trained, tmp_path / "p", **changes)
    for stage in ("baseline", "evaluate"):
        result = package(f"{{ cookiecutter.package_name }}.stages.{stage}", cwd=folder)
        assert result.returncode == 0, result.stderr[-3000:]
    saved = files.read_json(folder / "models/baseline/text.json")
    assert saved["text"]["strip_code_blocks"] == option.get("strip_code_blocks", True)
    assert saved["title_ngrams"] == option.get("title_ngrams", False)
    assert saved["cross_validated"] == [{"option": option, "mean_average_precision": None, "chosen": True}]
    monkeypatch.chdir(folder)
    issues = raw_test_issues(folder)
    assert any("```" in (issue["body"] or "") for issue in issues)
    expected = {p["number"]: p["scores"] for p in files.read_jsonl("reports/test_predictions.jsonl")}
    predictor = Predictor(trained_model(load_config("config.yaml")))
    scores = predictor.scores(issues)
    for i, issue in enumerate(issues):
        for slug, score in scores.items():
            assert score[i] == pytest.approx(expected[issue["number"]][slug], abs=1e-6)
    # scored with preprocess's text instead (no title of its own), the issues score otherwise
    if not option.get("title_ngrams"):
        theirs = predictor.baselines.scores(predictor.normalise(issues))
        ours = predictor.baselines.scores(predictor.baselines.documents(issues, predictor.model.text))
        assert any(not np.allclose(theirs[slug], ours[slug]) for slug in ours)


def test_a_precision_level_that_was_not_stored(trained):
    result = package("{{ cookiecutter.package_name }}", "predict", "--title", "Crash", "--precision", "0.83", cwd=trained)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --precision: expected one of 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95; found 0.83"
    ]
    one = package("{{ cookiecutter.package_name }}", "predict", "--title", "Crash on save", "--precision", "0.8", cwd=trained)
    assert one.returncode == 0, one.stderr
    assert len(json.loads(one.stdout)["scores"]) == len(load_config(trained / "config.yaml").labels)


def test_baselines_saved_before_the_shared_vectorizer_still_score(trained, tmp_path):
    """The vectorizer is saved once, each label's regression alone; a promoted model from before
    that holds a pipeline (vectorizer, regression) per label, and scores the same."""
    saved = trained / "models/baseline"
    slugs = sorted(path.stem for path in saved.glob("*.pkl") if path.name != baseline.VECTORIZER)
    assert (saved / baseline.VECTORIZER).exists() and len(slugs) > 1
    vectorizer = pickle.loads((saved / baseline.VECTORIZER).read_bytes())
    texts = ["crash on save", "add dark mode", "how do i configure it", ""]
    expected = {}  # scikit-learn's own probabilities, label by label
    for slug in slugs:
        model = pickle.loads((saved / f"{slug}.pkl").read_bytes())
        assert not hasattr(model, "steps")  # the regression alone
        (tmp_path / f"{slug}.pkl").write_bytes(pickle.dumps(make_pipeline(vectorizer, model)))
        expected[slug] = model.predict_proba(vectorizer.transform(texts))[:, list(model.classes_).index(1)]
    new, old = baseline.load(saved, slugs).scores(texts), baseline.load(tmp_path, slugs).scores(texts)
    assert list(new) == list(old) == slugs
    for slug in slugs:
        np.testing.assert_allclose(new[slug], expected[slug], rtol=1e-9)
        np.testing.assert_allclose(old[slug], expected[slug], rtol=1e-9)
