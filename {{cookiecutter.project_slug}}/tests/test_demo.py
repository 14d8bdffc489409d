"""Tests for the synthetic demo corpus (issues/demo.py)."""

import hashlib
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

# Load the module from its file so the test does not depend on the package name.
DEMO_PATH = next((Path(__file__).resolve().parents[1] / "src").glob("*/issues/demo.py"))
_spec = importlib.util.spec_from_file_location("issues_demo_under_test", DEMO_PATH)
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

KEYS = {"number", "title", "body", "labels", "created_at", "state"}
ISO_UTC = re.compile(r"2024-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def corpus():
    return demo.generate(600, seed=0)


def canonical(issue):
    return [demo.ALIASES.get(label, label) for label in issue["labels"]]


def words(issue):
    text = (issue["title"] + " " + issue["body"]).lower()
    return set(re.findall(r"[a-z][a-z']+", text))


def test_deterministic_and_seeded(corpus):
    assert demo.generate(600, seed=0) == corpus
    assert demo.generate(600, seed=1) != corpus
    assert demo.generate(0, seed=0) == []
    assert len(demo.generate(7, seed=3)) == 7


def test_independent_of_hash_seed():
    code = (
        "import hashlib, importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('d', sys.argv[1])\n"
        "mod = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(mod)\n"
        "print(hashlib.sha256(json.dumps(mod.generate(200, 5)).encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code, str(DEMO_PATH)], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    expected = hashlib.sha256(json.dumps(demo.generate(200, 5)).encode()).hexdigest()
    assert digests == {expected}


def test_record_schema(corpus):
    assert [issue["number"] for issue in corpus] == list(range(1, 601))
    assert set(demo.ALIASES.values()) <= set(demo.DEMO_LABELS)
    for issue in corpus:
        assert set(issue) == KEYS
        assert isinstance(issue["title"], str)
        assert isinstance(issue["body"], str)
        assert 4 <= len(issue["title"].split()) <= 14
        assert ISO_UTC.fullmatch(issue["created_at"])
        assert issue["state"] in ("open", "closed")
        assert isinstance(issue["labels"], list)
        assert len(issue["labels"]) <= 2
        known = (*demo.DEMO_LABELS, *demo.ALIASES)
        assert all(label in known for label in issue["labels"])
        assert len(set(canonical(issue))) == len(issue["labels"])
    stamps = [issue["created_at"] for issue in corpus]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_label_distribution(corpus):
    counts = Counter(label for issue in corpus for label in canonical(issue))
    assert all(counts[label] >= 60 for label in demo.DEMO_LABELS), counts
    n_labels = Counter(len(issue["labels"]) for issue in corpus)
    assert 0.08 * 600 <= n_labels[0] <= 0.25 * 600
    assert 0.04 * 600 <= n_labels[2] <= 0.2 * 600
    labelled = [issue for issue in corpus if issue["labels"]]
    aliased = [i for i in labelled if any(lab in demo.ALIASES for lab in i["labels"])]
    assert 0.03 <= len(aliased) / len(labelled) <= 0.15


def test_looks_like_github_markdown(corpus):
    text = "\n".join(issue["body"] for issue in corpus)
    markers = (
        "```python",
        "```bash",
        "<!--",
        "](https://",
        "![",
        "<details>",
        "Traceback (most recent call last)",
        "    at ",
        "### Steps to reproduce",
        "- [x]",
        "🚀",
    )
    for marker in markers:
        assert marker in text, marker
    assert any(issue["body"] == "" for issue in corpus)
    assert any(0 < len(issue["body"]) < 40 for issue in corpus)
    # Texts vary: very few exact duplicate titles+bodies.
    assert len({(i["title"], i["body"]) for i in corpus}) > 0.95 * len(corpus)


def test_learnable_beyond_majority(corpus):
    """Naive Bayes on the first 400 issues beats the majority class on the rest."""
    single = [(words(i), canonical(i)[0], i["number"]) for i in corpus if len(i["labels"]) == 1]
    train = [(w, lab) for w, lab, number in single if number <= 400]
    test = [(w, lab) for w, lab, number in single if number > 400]
    prior = Counter(lab for _, lab in train)
    freq = {lab: Counter() for lab in demo.DEMO_LABELS}
    for ws, lab in train:
        freq[lab].update(ws)
    vocab = len({w for ws, _ in train for w in ws})
    total = {lab: sum(c.values()) + vocab for lab, c in freq.items()}

    def score(ws, lab):
        return math.log(prior[lab]) + sum(math.log((freq[lab][w] + 1) / total[lab]) for w in ws)

    def predict(ws):
        return max(demo.DEMO_LABELS, key=lambda lab: score(ws, lab))

    accuracy = sum(predict(ws) == lab for ws, lab in test) / len(test)
    majority = Counter(prior).most_common(1)[0][0]
    baseline = sum(lab == majority for _, lab in test) / len(test)
    # Clearly learnable, yet not perfect: phrasings overlap and some labels are noisy.
    assert accuracy >= baseline + 0.3, (accuracy, baseline)
    assert accuracy <= 0.97, accuracy


def test_no_single_keyword_decides_label(corpus):
    labelled = [(words(i), canonical(i)) for i in corpus if i["labels"]]
    doc_freq = Counter(w for ws, _ in labelled for w in ws)
    for label in demo.DEMO_LABELS:
        positives = sum(label in labs for _, labs in labelled)
        hits = Counter(w for ws, labs in labelled if label in labs for w in ws)
        for word, tp in hits.items():
            precision, recall = tp / doc_freq[word], tp / positives
            assert precision < 0.95 or recall < 0.6, (label, word, precision, recall)
