"""Live precision (monitor.py) on scripted label timelines, checked against figures worked out by hand."""

from datetime import UTC, datetime

import pytest

from {{ cookiecutter.package_name }}.monitor import live_precision, render

BOT = "triage-bot[bot]"
LABELS = {"bug": ["bug", "type: bug"], "feature": ["feature", "enhancement"], "docs": ["documentation"]}
TARGETS = {"bug": 0.9, "feature": 0.8, "docs": 0.55}
NOW = datetime(2024, 7, 1, tzinfo=UTC)  # with 30 days: the window is 2024-06-01 .. 2024-07-01


def is_bot(login):
    return login == BOT


def event(kind, label, actor, day, month=6):
    return {"type": kind, "label": label, "actor": actor, "created_at": f"2024-{month:02d}-{day:02d}T12:00:00Z"}


def issue(number, *events):
    return {"number": number, "labels": [], "label_events": list(events)}


RECORDS = [
    # The bot adds bug under its alias and nobody touches it: bug kept.
    issue(1, event("added", "type: bug", BOT, 10)),
    # The bot adds bug, a person removes it: bug removed.
    issue(2, event("added", "bug", BOT, 11), event("removed", "bug", "alice", 12)),
    # The bot adds bug, a person removes it and adds enhancement (feature's alias): bug replaced, and feature
    # missed, since the bot never applied feature here.
    issue(
        3,
        event("added", "bug", BOT, 12),
        event("removed", "bug", "alice", 13),
        event("added", "enhancement", "alice", 13),
    ),
    # A person adds documentation, which the bot never applied: docs missed.
    issue(4, event("added", "documentation", "bob", 15)),
    # The bot adds docs, a person removes it, the bot adds it again and it stays: two applications, docs removed
    # once and kept once.
    issue(
        5,
        event("added", "documentation", BOT, 2),
        event("removed", "documentation", "bob", 3),
        event("added", "documentation", BOT, 4),
    ),
    # The bot adds feature and takes it off again (a rollback): feature withdrawn, not counted in precision.
    issue(6, event("added", "feature", BOT, 5), event("removed", "feature", BOT, 6)),
    # Outside the window or not counted at all: a bot add in May; a person's removal after NOW (so bug stays
    # out: the May add is before the window anyway); a deleted label; a label not configured.
    issue(
        7,
        event("added", "bug", BOT, 20, month=5),
        event("added", None, BOT, 10),
        event("added", "question", BOT, 10),
        event("removed", "question", "alice", 11),
        event("removed", "bug", "alice", 2, month=7),
        event("added", "documentation", "alice", 2, month=7),
    ),
    # The bot applied feature in May (then withdrew it); a person adding it back in June is not a miss.
    issue(
        8,
        event("added", "feature", BOT, 15, month=5),
        event("removed", "feature", BOT, 16, month=5),
        event("added", "enhancement", "carol", 20),
    ),
    # No label events at all.
    issue(9),
    {"number": 10, "labels": ["bug"]},
]


def report(min_applied=2, records=RECORDS):
    return live_precision(records, LABELS, is_bot, NOW, 30, TARGETS, 0.05, min_applied)


def counts(row):
    keys = ("applied", "kept", "removed", "replaced", "withdrawn", "missed", "counted")
    return tuple(row[key] for key in keys)


def test_outcomes_per_label():
    rows = report()["labels"]
    assert list(rows) == ["bug", "feature", "docs"]
    # bug: #1 kept, #2 removed, #3 replaced; precision 1/3, recall proxy 1/(1 + 0).
    assert counts(rows["bug"]) == (3, 1, 1, 1, 0, 0, 3)
    assert rows["bug"]["precision"] == pytest.approx(1 / 3)
    assert rows["bug"]["recall_proxy"] == 1.0
    # feature: #6 withdrawn, nothing judged; #3 missed (#8 is not: the bot applied it in May); recall 0/(0 + 1).
    assert counts(rows["feature"]) == (1, 0, 0, 0, 1, 1, 0)
    assert rows["feature"]["precision"] is None
    assert rows["feature"]["recall_proxy"] == 0.0
    # docs: #5 removed then kept; #4 missed (#7's add is after NOW); precision 1/2, recall 1/(1 + 1).
    assert counts(rows["docs"]) == (2, 1, 1, 0, 0, 1, 2)
    assert rows["docs"]["precision"] == 0.5
    assert rows["docs"]["recall_proxy"] == 0.5


def test_overall_and_window():
    result = report()
    # Sums of the rows above: kept 2 of 5 judged, kept 2 of 2 + 2 missed.
    assert counts(result["overall"]) == (6, 2, 2, 1, 1, 2, 5)
    assert result["overall"]["precision"] == 0.4
    assert result["overall"]["recall_proxy"] == 0.5
    assert result["window"] == {"since": "2024-06-01T00:00:00Z", "until": "2024-07-01T00:00:00Z", "days": 30}


@pytest.mark.parametrize(
    ("min_applied", "flagged"),
    [
        # bug 1/3 < 0.9 - 0.05 with 3 judged: flagged; docs 0.5 is not below 0.55 - 0.05; feature has none judged.
        (2, ["bug"]),
        # With 4 needed, bug's 3 are too few to flag.
        (4, []),
    ],
)
def test_flagged(min_applied, flagged):
    result = report(min_applied)
    assert result["overall"]["flagged"] == flagged
    assert [slug for slug, row in result["labels"].items() if row["flagged"]] == flagged


def test_flagged_just_below_target():
    # Docs only (#4, #5): precision 0.5 is below 0.6 - 0.05 = 0.55.
    result = live_precision(RECORDS[3:5], LABELS, is_bot, NOW, 30, {"docs": 0.6}, 0.05, 2)
    assert result["overall"]["flagged"] == ["docs"]
    assert result["labels"]["bug"]["flagged"] is False  # nothing applied, no target


def test_render_rows():
    text = render(report())
    assert text.startswith("## ")
    assert "2024-06-01T00:00:00Z to 2024-07-01T00:00:00Z (30 days)" in text
    assert "| bug | 3 | 1 | 1 | 1 | 0 | 0.33 | 0.90 | below target |" in text
    assert "| feature | 1 | 0 | 0 | 0 | 1 | – | 0.80 | too few |" in text
    assert "| docs | 2 | 1 | 1 | 0 | 1 | 0.50 | 0.55 | ok |" in text
    assert "| all | 6 | 2 | 2 | 1 | 2 | 0.40 | – | 1 below target |" in text
