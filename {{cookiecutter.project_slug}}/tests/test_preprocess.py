"""Raw issues -> rows with label slugs and a split (preprocess.py)."""

import dataclasses
import random
from collections import Counter

import pytest

from {{ cookiecutter.package_name }}.core.config import Label
from {{ cookiecutter.package_name }}.issues.demo import ALIASES, DEMO_LABELS, generate
from {{ cookiecutter.package_name }}.preprocess import UNLABELLED, DataError, preprocess

# Labels of the small hand-made examples: slug -> (GitHub name, aliases).
LABELS = {"bug": ("bug", ["kind/bug", "type: bug"]), "feature": ("enhancement", ["type: feature"])}
BUG_ONLY = {"bug": LABELS["bug"]}
DEMO = {label: (label, [alias for alias, name in ALIASES.items() if name == label]) for label in DEMO_LABELS}


def make_config(base, labels=LABELS, seed=42, **preprocess_options):
    """The default config with other labels, seed or preprocess options (the baked labels may differ)."""
    return dataclasses.replace(
        base,
        labels={slug: Label(name, aliases, {}) for slug, (name, aliases) in labels.items()},
        seed=seed,
        preprocess=dataclasses.replace(base.preprocess, **preprocess_options),
    )


def issue(number, labels, split=None):
    record = {"number": number, "title": f"Issue {number}", "body": "Some **text**", "labels": labels}
    if split:
        record["split"] = split
    return record


@pytest.fixture(scope="module")
def demo_issues():
    return generate(600, seed=0)


def splits_by_number(rows):
    return {row["number"]: row["split"] for row in rows}


def test_aliases_mapped_to_slugs(default_config):
    config = make_config(default_config, min_examples=1)
    records = [
        issue(1, ["kind/bug"]),
        issue(2, ["type: feature", "bug"]),
        issue(3, ["enhancement", "wontfix"]),
        issue(4, ["type: bug", "kind/bug"]),  # two names of one label count once
    ] + [issue(n, ["bug", "enhancement"]) for n in range(5, 25)]
    rows, summary = preprocess(config, records)
    labels = {row["number"]: row["labels"] for row in rows}
    assert labels[1] == ["bug"]
    assert labels[2] == ["bug", "feature"]  # in the config's label order
    assert labels[3] == ["feature"]
    assert labels[4] == ["bug"]
    assert rows[0]["text"] == "issue 1 . some **text**"
    assert summary["labels"]["feature"]["name"] == "enhancement"


def test_issues_without_configured_labels_are_unlabelled(default_config):
    config = make_config(default_config, labels=BUG_ONLY, min_examples=1)
    records = [issue(n, ["bug"]) for n in range(1, 21)] + [issue(21, []), issue(22, ["wontfix", "duplicate"])]
    rows, summary = preprocess(config, records)
    by_number = {row["number"]: row for row in rows}
    for number in (21, 22):
        assert by_number[number]["labels"] == []
        assert by_number[number]["split"] == UNLABELLED
    assert all(by_number[n]["split"] in ("train", "val", "test") for n in range(1, 21))
    assert summary["splits"][UNLABELLED] == 2
    assert sum(summary["splits"].values()) == len(records)


def test_split_is_deterministic_and_independent_of_order(default_config, demo_issues):
    config = make_config(default_config, labels=DEMO)
    first, _ = preprocess(config, demo_issues)
    again, _ = preprocess(config, demo_issues)
    assert first == again
    shuffled = list(demo_issues)
    random.Random(3).shuffle(shuffled)
    assert splits_by_number(preprocess(config, shuffled)[0]) == splits_by_number(first)


def test_split_changes_with_the_seed(default_config, demo_issues):
    one = splits_by_number(preprocess(make_config(default_config, labels=DEMO, seed=1), demo_issues)[0])
    two = splits_by_number(preprocess(make_config(default_config, labels=DEMO, seed=2), demo_issues)[0])
    assert one != two
    # Only the assignment changes, not the sizes.
    assert Counter(one.values()) == Counter(two.values())


def test_split_is_stratified(default_config, demo_issues):
    config = make_config(default_config, labels=DEMO, val_fraction=0.15, test_fraction=0.2)
    _, summary = preprocess(config, demo_issues)
    expected = {"train": 0.65, "val": 0.15, "test": 0.2}
    for slug, counts in summary["labels"].items():
        total = sum(counts[split] for split in expected)
        assert total >= 50, slug
        for split, fraction in expected.items():
            assert counts[split] / total == pytest.approx(fraction, abs=0.03), (slug, split, counts)


def test_source_split_honoured_and_val_carved_from_train(default_config, demo_issues):
    config = make_config(default_config, labels=DEMO, val_fraction=0.15)
    records = [dict(record, split="test" if record["number"] % 4 == 0 else "train") for record in demo_issues]
    rows, summary = preprocess(config, records)
    source = {record["number"]: record["split"] for record in records}
    for row in rows:
        if row["split"] == UNLABELLED:
            assert not row["labels"]
        elif source[row["number"]] == "test":
            assert row["split"] == "test"  # test issues stay test
        else:
            assert row["split"] in ("train", "val")  # val comes from train only
    counts = Counter(row["split"] for row in rows)
    assert counts["val"] / (counts["val"] + counts["train"]) == pytest.approx(0.15, abs=0.02)
    assert all(info["val"] > 0 for info in summary["labels"].values())


def test_source_split_with_val_kept_as_is(default_config):
    config = make_config(default_config, labels=BUG_ONLY, min_examples=1)
    records = [issue(n, ["bug"], split=["train", "train", "val", "test"][n % 4]) for n in range(1, 41)]
    rows, _ = preprocess(config, records)
    assert splits_by_number(rows) == {record["number"]: record["split"] for record in records}


def test_mixed_split_and_no_split_is_an_error(default_config):
    config = make_config(default_config, labels=BUG_ONLY, min_examples=1)
    records = [issue(n, ["bug"], split="train") for n in range(1, 11)] + [issue(11, ["bug"])]
    with pytest.raises(DataError, match=r"split: 10 of 11 issues have a `split` field; expected all issues or none"):
        preprocess(config, records)


def test_rare_label_dropped_with_a_warning(default_config):
    config = make_config(default_config, min_examples=5)
    records = [issue(n, ["bug"]) for n in range(1, 41)]
    records += [issue(41, ["enhancement"]), issue(42, ["enhancement", "bug"])]
    with pytest.warns(UserWarning, match=r"fewer than preprocess.min_examples \(5\).*'enhancement' \(\d train, 0 val"):
        rows, summary = preprocess(config, records)
    by_number = {row["number"]: row for row in rows}
    # The issue with only the dropped label joins the unlabelled ones; the other keeps 'bug'.
    assert by_number[41]["labels"] == []
    assert by_number[41]["split"] == UNLABELLED
    assert by_number[42]["labels"] == ["bug"]
    assert by_number[42]["split"] in ("train", "val", "test")
    assert not any("feature" in row["labels"] for row in rows)
    assert summary["labels"]["feature"]["dropped"] is True
    assert summary["labels"]["bug"]["dropped"] is False


def test_label_only_in_the_test_split_is_dropped_with_its_counts(default_config):
    """It cannot be learned: skipped with a warning naming it and where its issues are, as any label
    with fewer than min_examples training issues; its test issues join the unlabelled ones."""
    config = make_config(default_config, min_examples=2)
    records = [issue(n, ["bug"], split="train" if n % 4 else "test") for n in range(1, 41)]
    records += [issue(n, ["enhancement"], split="test") for n in range(41, 44)]
    expected = r"min_examples \(2\) training issues: 'enhancement' \(0 train, 0 val, 3 test\)"
    with pytest.warns(UserWarning, match=expected):
        rows, summary = preprocess(config, records)
    assert summary["labels"]["feature"] == {"name": "enhancement", "dropped": True, "train": 0, "val": 0, "test": 3}
    assert {row["split"] for row in rows if row["number"] > 40} == {UNLABELLED}


@pytest.mark.parametrize("min_examples", [1, 2])
def test_label_on_a_single_issue(default_config, min_examples):
    """Below min_examples it is dropped like any rare label; kept (min_examples 1), it trains, but
    with no validation issue no threshold can be chosen, which the warning says."""
    config = make_config(default_config, min_examples=min_examples)
    records = [issue(n, ["bug"]) for n in range(1, 41)] + [issue(41, ["enhancement"])]
    warning = "dropping labels with fewer" if min_examples == 2 else "trained but never applied"
    with pytest.warns(UserWarning, match=rf"{warning} .*'enhancement' \(1 train, 0 val, 0 test\)"):
        rows, summary = preprocess(config, records)
    assert summary["labels"]["feature"]["dropped"] is (min_examples == 2)
    expected = ([], UNLABELLED) if min_examples == 2 else (["feature"], "train")
    assert (rows[-1]["labels"], rows[-1]["split"]) == expected


def test_all_labels_dropped_is_an_error(default_config):
    config = make_config(default_config, labels=BUG_ONLY, min_examples=50)
    records = [issue(n, ["bug"]) for n in range(1, 21)]
    with pytest.warns(UserWarning, match="'bug'"), pytest.raises(DataError, match="no label has"):
        preprocess(config, records)


def test_no_issue_with_a_configured_label_is_an_error(default_config):
    config = make_config(default_config)
    records = [issue(1, ["wontfix"]), issue(2, [])]
    with pytest.raises(DataError, match=r"no issue carries any of the configured labels \('bug', 'enhancement'\)"):
        preprocess(config, records)


# --- labels added by bots do not count ---------------------------------------------------------


def added(label, actor):
    return {"type": "added", "label": label, "actor": actor}


def test_labels_added_by_bots_are_not_learned(default_config):
    config = make_config(default_config, min_examples=1, bots=["vscode-triage-*", "Octo-Helper"])
    records = [issue(n, ["bug"]) for n in range(1, 21)]  # no events: kept as they are
    events = {
        21: [added("bug", "dependabot[bot]")],
        22: [added("bug", "github-actions")],
        23: [added("bug", "vscode-triage-bot")],
        24: [added("bug", "octo-helper")],  # logins are case-insensitive
        25: [added("bug", "alice")],
        26: [added("bug", "renovate[bot]"), {"type": "removed", "label": "bug"}, added("bug", "alice")],
        27: [added("bug", "alice"), {"type": "removed", "label": "bug"}, added("bug", "renovate[bot]")],
        28: [added("bug", "dependabot[bot]"), added("enhancement", "bob")],
        29: [added("bug", "a-bot-not[bot]-really")],
    }
    records += [
        dict(issue(n, ["bug", "enhancement"] if n == 28 else ["bug"]), label_events=e) for n, e in events.items()
    ]
    with pytest.warns(UserWarning, match=r"not learning 6 labels added by bots: 'bug' \(6\)"):
        rows, summary = preprocess(config, records)
    labels = {row["number"]: row["labels"] for row in rows}
    assert all(labels[n] == ["bug"] for n in range(1, 21))
    assert {n: labels[n] for n in events} == {
        21: [], 22: [], 23: [], 24: [], 25: ["bug"], 26: ["bug"], 27: [], 28: ["feature"], 29: ["bug"],
    }  # fmt: skip
    assert summary["labels_added_by_bots"] == {"bug": 6}


def test_the_labels_the_label_command_applied_are_not_learned(default_config):
    config = make_config(default_config, min_examples=1)
    config = dataclasses.replace(config, label=dataclasses.replace(config.label, actor="triage-user"))
    records = [issue(n, ["bug"]) for n in range(1, 21)]
    records += [dict(issue(21, ["bug"]), label_events=[added("bug", "Triage-User")])]  # a PAT's account
    with pytest.warns(UserWarning, match="not learning 1 labels added by bots"):
        rows, _ = preprocess(config, records)
    assert {row["number"]: row["labels"] for row in rows}[21] == []
