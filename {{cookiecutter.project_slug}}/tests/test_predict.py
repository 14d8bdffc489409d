"""The one prediction path gives the scores evaluate measured (train/serve consistency), encoding
each issue once for all labels. Slow: it uses the pipeline trained on the tiny settings."""

import json
import pickle

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from conftest import package
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
    texts = [row["text"] for row in files.read_jsonl("data/processed/issues.jsonl") if row["split"] == "test"]
    scores = predictor.scores(texts)
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
    scores = predictor.scores(["crash on save", "add dark mode", "how do i configure it"])
    assert calls == [3] and len(scores) == len(predictor.heads) > 1


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
