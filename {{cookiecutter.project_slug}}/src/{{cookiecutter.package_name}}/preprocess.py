"""Raw issues -> model text, label slugs and a train/val/test split.

Issues with none of the configured labels get the split `unlabelled`: they feed the language
model, never a classifier or the metrics. A label last added by a bot does not count, as in the
vscode classifier: a bot's guess is not a person's judgement to learn from.
"""

from __future__ import annotations

import dataclasses
import random
import re
import warnings
from collections import Counter, defaultdict

from .core.config import Config
from .core.errors import PipelineError
from .dataset import SPLITS, UNLABELLED
from .text import normalise


class DataError(PipelineError):
    """The data cannot train the configured labels; the message says which and why."""


BOTS = ("*[bot]", "github-actions")  # GitHub Apps' accounts, and Actions' GITHUB_TOKEN


def bot_matcher(patterns: list[str]) -> re.Pattern:
    """Logins matching BOTS or `patterns` (`*` matches any text; case does not matter)."""
    alternatives = (".*".join(re.escape(part) for part in pattern.split("*")) for pattern in [*BOTS, *patterns])
    return re.compile("|".join(alternatives), re.IGNORECASE)


def human_labels(record: dict, bots: re.Pattern) -> list[str]:
    """The issue's labels, less those whose last `added` event names a bot as the actor. Labels
    without events (dumps that have none) are kept."""
    added_by = {}
    for event in record.get("label_events") or []:
        if event["type"] == "added":
            added_by[event["label"]] = event.get("actor") or ""
    return [name for name in record["labels"] if name not in added_by or not bots.fullmatch(added_by[name])]


def label_index(config: Config) -> dict[str, str]:
    """GitHub label name (or alias) -> slug."""
    return {name: slug for slug, label in config.labels.items() for name in [label.name, *label.aliases]}


def split_stratified(items: list[dict], fractions: dict[str, float], seed: int) -> dict[int, str]:
    """number -> split, each label combination split in the given proportions (rest: train)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for item in items:
        groups[tuple(item["labels"])].append(item)
    rng = random.Random(seed)
    assigned: dict[int, str] = {}
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda item: item["number"])
        rng.shuffle(group)
        start = 0
        for split, fraction in fractions.items():
            count = round(len(group) * fraction)
            for item in group[start : start + count]:
                assigned[item["number"]] = split
            start += count
        for item in group[start:]:
            assigned[item["number"]] = "train"
    return assigned


def preprocess(config: Config, records: list[dict]) -> tuple[list[dict], dict]:
    """Rows {number, text, labels (slugs), split} and a summary of the labels and splits."""
    index = label_index(config)
    slugs = config.label_slugs()
    bots = bot_matcher([*config.preprocess.bots, config.label.actor])  # never learn from the model's own labels
    rows = []
    by_bots = Counter()
    for record in records:
        labels = human_labels(record, bots)
        by_bots.update(name for name in record["labels"] if name in index and name not in labels)
        found = {index[name] for name in labels if name in index}
        rows.append(
            {
                "number": record["number"],
                "text": normalise(record["title"], record["body"], config.preprocess.text),
                "labels": [slug for slug in slugs if slug in found],
                "split": record.get("split"),
            }
        )
    if by_bots:
        warnings.warn(
            f"not learning {sum(by_bots.values())} labels added by bots: "
            + ", ".join(f"{name!r} ({count})" for name, count in sorted(by_bots.items())),
            stacklevel=1,
        )
    labelled = [row for row in rows if row["labels"]]
    if not labelled:
        names = ", ".join(repr(label.name) for label in config.labels.values())
        raise DataError(
            f"labels: no issue carries any of the configured labels ({names}); "
            "expected each label (or one of its aliases) on some issues"
        )
    _assign_splits(config, rows, labelled)

    counts = Counter((row["split"], slug) for row in rows for slug in row["labels"])

    def named(slug: str) -> str:
        where = ", ".join(f"{counts[(split, slug)]} {split}" for split in SPLITS)
        return f"{config.labels[slug].name!r} ({where})"

    dropped = [slug for slug in slugs if counts[("train", slug)] < config.preprocess.min_examples]
    if dropped:  # a label only in the test split, or on one issue, cannot be learned: skipped, not an error
        warnings.warn(
            f"dropping labels with fewer than preprocess.min_examples ({config.preprocess.min_examples}) "
            "training issues: " + ", ".join(named(s) for s in dropped),
            stacklevel=1,
        )
    unmeasured = [s for s in slugs if s not in dropped and not (counts[("val", s)] and counts[("test", s)])]
    if unmeasured:
        warnings.warn(
            "labels without validation or test issues are trained but never applied (no threshold can be "
            "chosen without validation issues) or not measured (no test issues): "
            + ", ".join(named(s) for s in unmeasured),
            stacklevel=1,
        )
    if len(dropped) == len(slugs):
        raise DataError(
            f"labels: no label has preprocess.min_examples ({config.preprocess.min_examples}) "
            "training issues; expected at least one"
        )
    for row in rows:
        row["labels"] = [slug for slug in row["labels"] if slug not in dropped]
        if not row["labels"]:
            row["split"] = UNLABELLED
    return rows, _summary(config, rows, dropped, counts) | {"labels_added_by_bots": dict(sorted(by_bots.items()))}


def _assign_splits(config: Config, rows: list[dict], labelled: list[dict]) -> None:
    p = config.preprocess
    with_split = [row for row in rows if row["split"]]
    if with_split and len(with_split) != len(rows):
        raise DataError(
            f"split: {len(with_split)} of {len(rows)} issues have a `split` field; "
            "expected all issues or none to have one"
        )
    if with_split:
        if not any(row["split"] == "val" for row in labelled):
            train = {row["number"]: row for row in labelled if row["split"] == "train"}
            carved = split_stratified(list(train.values()), {"val": p.val_fraction}, config.seed)
            for number, split in carved.items():
                train[number]["split"] = split
    else:
        fractions = {"test": p.test_fraction, "val": p.val_fraction}
        assigned = split_stratified(labelled, fractions, config.seed)
        for row in labelled:
            row["split"] = assigned[row["number"]]
    for row in rows:
        if not row["labels"]:
            row["split"] = UNLABELLED


def _summary(config: Config, rows: list[dict], dropped: list[str], counts: Counter) -> dict:
    """Issues per split, and per label and split (a dropped label's too, as they were before dropping);
    and the text rules, which a promoted model carries so that it normalises new issues the same way."""
    return {
        "text": dataclasses.asdict(config.preprocess.text),
        "splits": dict(sorted(Counter(row["split"] for row in rows).items())),
        "labels": {
            slug: {
                "name": label.name,
                "dropped": slug in dropped,
                **{split: counts[(split, slug)] for split in SPLITS},
            }
            for slug, label in config.labels.items()
        },
    }
