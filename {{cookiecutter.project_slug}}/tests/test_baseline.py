"""The baseline's text rules chosen by cross-validation on train (baseline.py): stratified, seeded
folds, and the option whose out-of-fold scores rank best; the stage's val scores held out and its
saved models refitted on train and val (stages/baseline.py)."""

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.baseline import TITLE_END, TitledVectorizer, choose_text, document, fit_all, folds, load
from {{ cookiecutter.package_name }}.core import files
from {{ cookiecutter.package_name }}.core.config import BaselineOption, baseline_options, load_config
from {{ cookiecutter.package_name }}.dataset import SCORES, Processed, read_scores, targets, write_processed
from {{ cookiecutter.package_name }}.stages import baseline as stage

CONFIG = load_config(Path(__file__).parents[1] / "config.yaml")


def test_folds_are_stratified_and_seeded():
    labels = [["bug"]] * 50 + [["question"]] * 20 + [["bug", "docs"]] * 7 + [[]] * 3
    fold = folds(labels, 5, seed=1)
    assert sorted(Counter(fold.tolist()).values()) == [16] * 5
    for combination in (["bug"], ["question"]):  # each combination spread evenly over the folds
        members = [f for f, own in zip(fold.tolist(), labels) if own == combination]
        assert set(Counter(members).values()) == {len(members) // 5}
    assert (folds(labels, 5, seed=1) == fold).all() and not (folds(labels, 5, seed=2) == fold).all()


def issues_whose_code_tells(rng, count):
    """Bugs paste a traceback, questions a config snippet; their prose says nothing."""
    words = ["editor", "panel", "save", "open", "window", "setting", "file", "theme", "today", "again"]
    issues, labels = [], []
    for i in range(count):
        bug = i % 2 == 0
        code = "Traceback KeyError raised in main" if bug else "config indent tabs true"
        prose = " ".join(rng.choice(words, 12))
        issues.append((f"problem with {rng.choice(words)}", f"{prose}\n```\n{code}\n```\n{prose}"))
        labels.append(["bug"] if bug else ["question"])
    return issues, labels


def test_choose_text_keeps_the_code_where_it_carries_the_label():
    issues, labels = issues_whose_code_tells(np.random.default_rng(0), 60)
    choices = baseline_options(CONFIG)
    assert [c.text.strip_code_blocks for c in choices] == [True, False, "marker", False, True]
    assert [c.title_ngrams for c in choices] == [False, False, False, False, True]
    best, scores = choose_text(CONFIG.baseline, choices, issues, labels, ["bug", "question"], seed=0)
    assert scores[1] == scores[3] == 1.0 and scores[0] < 0.8  # stripped: prose alone ranks at chance
    assert best == 1  # the tie with option 3 goes to the earlier
    assert choose_text(CONFIG.baseline, choices, issues, labels, ["bug", "question"], seed=0) == (best, scores)


def test_choose_text_keeps_preprocess_rules_when_nothing_is_gained():
    rng = np.random.default_rng(1)
    issues, labels = issues_whose_code_tells(rng, 40)
    issues = [(title, body.replace("```", "")) for title, body in issues]  # no fences: every option is the same text
    choices = [BaselineOption(dataclasses.replace(CONFIG.preprocess.text, strip_code_blocks=value), False)
               for value in (True, False)]  # fmt: skip
    best, scores = choose_text(CONFIG.baseline, choices, issues, labels, ["bug", "question"], seed=0)
    assert best == 0 and scores[0] == scores[1]


def test_choose_text_scores_the_most_frequent_labels_only():
    issues, labels = issues_whose_code_tells(np.random.default_rng(0), 60)
    labels = [own + (["docs"] if i in (3, 8) else []) for i, own in enumerate(labels)]  # a rare label: 2 issues
    choices = baseline_options(CONFIG)
    two = dataclasses.replace(CONFIG.baseline, text=dataclasses.replace(CONFIG.baseline.text, max_labels=2))
    chosen = choose_text(two, choices, issues, labels, ["docs", "bug", "question"], seed=0)
    assert chosen == choose_text(CONFIG.baseline, choices, issues, labels, ["bug", "question"], seed=0)
    assert chosen != choose_text(CONFIG.baseline, choices, issues, labels, ["docs", "bug", "question"], seed=0)


def issues_whose_title_tells(rng, count):
    """Questions ask in their title, bugs report one; their long bodies are the same kind of prose,
    with the title's telling words as often in either (the whole text's counts drown them)."""
    words = ["editor", "panel", "save", "open", "window", "setting", "file", "theme", "broken", "how", "do", "when"]
    issues, labels = [], []
    for i in range(count):
        bug = i % 2 == 0
        title = f"{rng.choice(words)} broken" if bug else f"how do {rng.choice(words)}"
        issues.append((title, " ".join(rng.choice(words, 80))))
        labels.append(["bug"] if bug else ["question"])
    return issues, labels


def test_choose_text_gives_the_title_its_own_ngrams_where_it_carries_the_label():
    issues, labels = issues_whose_title_tells(np.random.default_rng(0), 60)
    choices = baseline_options(CONFIG)
    best, scores = choose_text(CONFIG.baseline, choices, issues, labels, ["bug", "question"], seed=0)
    assert choices[best].title_ngrams and scores[best] == 1.0 and max(scores[:best]) < 0.8


def test_title_ngrams_are_a_block_of_their_own():
    title, body = "How do I Open it", "```\ncode\n``` The editor\x1fpanel"  # the separator in a body: just a space
    text = CONFIG.preprocess.text
    assert document(title, body, text, False) == "how do i open it . the editor panel"
    assert document(title, body, text, True) == "how do i open it" + TITLE_END + "how do i open it . the editor panel"
    docs = [document(t, b, text, True) for t, b in [(title, body), ("", "only a body here"), ("crash", "")]]
    vectorizer = TitledVectorizer(ngram_range=(1, 1))
    x = vectorizer.fit_transform(docs)
    assert x.shape == (3, vectorizer.width()) == vectorizer.transform(docs).shape
    whole = len(vectorizer.whole.vocabulary_)
    np.testing.assert_allclose(np.sqrt(x[0, :whole].power(2).sum()), 1)  # each block of unit length
    np.testing.assert_allclose(np.sqrt(x[0, whole:].power(2).sum()), 1)
    assert x[1, whole:].nnz == 0  # no title: no title n-grams
    untitled = TitledVectorizer().fit_transform([document("", "a body", text, True)] * 2)
    assert untitled.shape[0] == 2  # not one title with a word: the whole text alone


@pytest.mark.parametrize("refit", [True, False])
def test_val_is_scored_by_a_fit_on_train_and_the_saved_models_refit_on_val_too(
    tmp_path, monkeypatch, config_data, write_config, refit
):
    rng = np.random.default_rng(0)
    words = ["editor", "panel", "save", "open", "window", "setting", "file", "theme"]
    rows = []
    for i in range(60):
        split = "train" if i < 40 else "val" if i < 50 else "test"
        bug = i % 2 == 0
        text = " ".join(rng.choice(words, 6)) + (" crash" if bug else " please")
        if split == "val":
            text += " zebra"  # a word only val has: in the vocabulary only of a fit that saw val
        rows.append({"number": i, "text": text, "labels": ["bug"] if bug else ["feature"], "split": split})
    monkeypatch.chdir(tmp_path)
    slugs = ("bug", "feature")
    write_processed(Path("data/processed").resolve(), rows, {"labels": {slug: {"dropped": False} for slug in slugs}})
    config_data["baseline"]["refit"] = refit
    config_data["baseline"]["text"]["options"] = [{}]  # preprocess's text only: no raw issues needed
    config = load_config(write_config(config_data))

    assert ("train and val" in stage.run(config)) == refit
    saved = load(Path(config.paths.baseline), slugs)
    assert ("zebra" in saved.groups[0][0].vocabulary_) == refit
    data = Processed(config.paths.processed)
    by_split = {split: data.split(split) for split in ("val", "test")}
    scored = read_scores(Path(config.paths.baseline) / SCORES, by_split)
    train = data.split("train")
    labels = {slug: targets(train, slug) for slug in slugs}
    _, on_train = fit_all(config.baseline, [r["text"] for r in train], labels, config.seed,
                          {"val": [r["text"] for r in by_split["val"]]})  # fmt: skip
    for slug, _, split_scores in on_train:  # val: by a fit on train alone, whether or not the models refit
        np.testing.assert_allclose(scored[(slug, "val")], split_scores["val"], atol=1e-7)
    deployed = saved.scores([r["text"] for r in by_split["test"]])  # test: by the saved models
    for slug in slugs:
        np.testing.assert_allclose(scored[(slug, "test")], deployed[slug], atol=1e-7)
    rules = files.read_json(Path(config.paths.baseline) / "text.json")
    assert rules["cross_validated"][0]["chosen"] and rules.pop("title_ngrams") is False
    files.write_json(Path(config.paths.baseline) / "text.json", rules)  # as saved before title_ngrams existed
    older = load(Path(config.paths.baseline), slugs)
    as_read = older.documents([{"title": "Crash", "body": "the panel"}], CONFIG.preprocess.text)
    assert not older.title_ngrams and as_read == [document("Crash", "the panel", older.text, False)]
    texts = [r["text"] for r in by_split["test"]]
    np.testing.assert_array_equal(older.scores(texts)["bug"], deployed["bug"])


def test_the_stage_fits_and_saves_title_ngrams_when_chosen(tmp_path, monkeypatch, config_data, write_config):
    """Chosen, the title option is what the saved models read: the stage's test scores equal the
    saved baselines' scores of the raw issues, made documents as prediction makes them."""
    rng = np.random.default_rng(0)
    issues, labels = issues_whose_title_tells(rng, 60)
    raw = [{"number": i, "title": t, "body": b, "labels": own} for i, ((t, b), own) in enumerate(zip(issues, labels))]
    split = ["train"] * 40 + ["val"] * 10 + ["test"] * 10
    rows = [{"number": r["number"], "text": document(r["title"], r["body"], CONFIG.preprocess.text, False),
             "labels": r["labels"], "split": s} for r, s in zip(raw, split)]  # fmt: skip
    monkeypatch.chdir(tmp_path)
    slugs = ("bug", "question")
    write_processed(Path("data/processed").resolve(), rows, {"labels": {slug: {"dropped": False} for slug in slugs}})
    files.write_jsonl(Path(config_data["paths"]["raw"]), raw)
    config_data["baseline"]["text"]["options"] = [{}, {"title_ngrams": True}]
    config = load_config(write_config(config_data))

    assert "'title_ngrams': True" in stage.run(config)
    saved = load(Path(config.paths.baseline), slugs)
    assert saved.title_ngrams and isinstance(saved.groups[0][0], TitledVectorizer)
    test = [issue for issue, s in zip(raw, split) if s == "test"]
    by_split = {"test": Processed(config.paths.processed).split("test")}
    scored = read_scores(Path(config.paths.baseline) / SCORES, by_split)
    deployed = saved.scores(saved.documents(test, config.preprocess.text))
    for slug in slugs:
        np.testing.assert_allclose(scored[(slug, "test")], deployed[slug], atol=1e-7)
    assert files.read_json(Path(config.paths.baseline) / "text.json")["title_ngrams"] is True
