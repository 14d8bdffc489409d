"""Live precision: how many of the labels the bot applied on GitHub people kept.

Test-set precision says how the classifier did on last month's issues; it says nothing about the labels the
workflow is applying now, on issues that drift. vscode's integrated-terminal triage closes that loop by hand: a
label a person removes is a mistake the bot made. This module measures it from GitHub's own label timeline (the
`label_events` the importer writes), which none of the reference systems does: for every label the bot added in
a window, did a person remove it, remove it and put a different label on instead (replaced), or leave it (kept)?
A label the bot took off again itself (a rollback) is withdrawn and counts neither way. Labels people added that
the bot never applied are its misses, the other side of the loop.

Pure functions over the records, standard library only, so the command that reports them starts fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

OUTCOMES = ("kept", "removed", "replaced", "withdrawn")
COUNTS = ("applied", *OUTCOMES, "missed")
# Precision just at target - margin is not below it, whatever the float arithmetic of the subtraction says.
EPSILON = 1e-9


def live_precision(
    records: Iterable[dict],
    labels: dict[str, list[str]],
    bot: Callable[[str], bool],
    now: datetime,
    days: float,
    targets: dict[str, float],
    margin: float,
    min_applied: int,
) -> dict:
    """The outcome of every label the bot applied in the `days` up to `now`, per label and overall.

    `labels` maps each slug to the GitHub names counted as it (name first, then aliases); `bot` tells whether
    an actor login is the labelling bot; `targets` holds the precision each label was applied at. A label is
    flagged when at least `min_applied` of its applications were judged and its precision is below
    target - margin. Events after `now` are left out, so a past window reads the same later.
    """
    until = _aware(now)
    since = until - timedelta(days=days)
    slug_of = {}
    for slug, names in labels.items():
        for name in names:
            slug_of.setdefault(name, slug)
    rows = {slug: dict.fromkeys(COUNTS, 0) for slug in labels}

    for record in records:
        events = _events(record, slug_of, bot, until)
        for outcome, slug in _applications(events, since):
            rows[slug]["applied"] += 1
            rows[slug][outcome] += 1
        for slug in _missed(events, since):
            rows[slug]["missed"] += 1

    report_rows = {}
    for slug, counts in rows.items():
        target = targets.get(slug)
        row = _figures(counts)
        row["target"] = target
        row["flagged"] = (
            row["precision"] is not None
            and target is not None
            and row["counted"] >= min_applied
            and row["precision"] < target - margin - EPSILON
        )
        report_rows[slug] = row
    overall = _figures({key: sum(counts[key] for counts in rows.values()) for key in COUNTS})
    overall["flagged"] = [slug for slug, row in report_rows.items() if row["flagged"]]
    return {
        "window": {"since": _iso(since), "until": _iso(until), "days": days},
        "margin": margin,
        "min_applied": min_applied,
        "labels": report_rows,
        "overall": overall,
    }


def render(report: dict) -> str:
    """The report as markdown: what it measures, over which window, and one row per label."""
    window = report["window"]
    lines = [
        "## Live precision of the applied labels",
        "",
        f"Of the labels the bot applied from {window['since']} to {window['until']} ({window['days']} days), the "
        "share people kept: a label a person removed (or replaced with another) was a mistake; labels the bot "
        "withdrew itself are not counted, and missed counts issues where a person added a label the bot had not.",
        "",
        "| label | applied | kept | removed | replaced | missed | live precision | target | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for slug, row in report["labels"].items():
        lines.append(_line(slug, row, _fraction(row["target"]), _status(row, report["min_applied"])))
    overall = report["overall"]
    status = f"{len(overall['flagged'])} below target" if overall["flagged"] else "ok"
    lines.append(_line("all", overall, "–", status))
    return "\n".join(lines) + "\n"


def _aware(moment: datetime) -> datetime:
    # GitHub's timestamps are UTC; a naive one is read as UTC rather than failing the comparison.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _events(record: dict, slug_of: dict[str, str], bot: Callable[[str], bool], until: datetime) -> list[tuple]:
    """The record's events of configured labels up to `until`, oldest first, as (type, slug, by_bot, time)."""
    events = []
    for event in record.get("label_events") or []:
        slug = slug_of.get(event.get("label"))  # None for a deleted label (label None) or one not configured
        if slug is None:
            continue
        moment = _aware(datetime.fromisoformat(event["created_at"]))
        if moment <= until:
            events.append((event["type"], slug, bool(bot(event.get("actor") or "")), moment))
    return sorted(events, key=lambda event: event[3])  # stable: same-second events keep GitHub's order


def _applications(events: list[tuple], since: datetime) -> list[tuple[str, str]]:
    """(outcome, slug) of each label the bot added in the window."""
    applications = []
    on = set()  # slugs the bot added and nobody has removed since: adding one again is not a new application
    for index, (kind, slug, by_bot, moment) in enumerate(events):
        if kind == "removed":
            on.discard(slug)
        elif by_bot and slug not in on:
            on.add(slug)
            if moment >= since:
                applications.append((_outcome(events, index), slug))
    return applications


def _outcome(events: list[tuple], index: int) -> str:
    """What became of the bot's add at `index`: decided by the first removal of that label after it."""
    _, slug, _, _ = events[index]
    later = events[index + 1 :]
    removal = next((event for event in later if event[0] == "removed" and event[1] == slug), None)
    if removal is None:
        return "kept"
    if removal[2]:
        return "withdrawn"
    # A person who takes the label off and puts another on has said which label was right.
    swapped = any(kind == "added" and other != slug and not by_bot for kind, other, by_bot, _ in later)
    return "replaced" if swapped else "removed"


def _missed(events: list[tuple], since: datetime) -> set[str]:
    """Slugs a person added in the window to an issue the bot had not applied them to before."""
    applied, missed = set(), set()
    for kind, slug, by_bot, moment in events:
        if kind != "added":
            continue
        if by_bot:
            applied.add(slug)
        elif moment >= since and slug not in applied:
            missed.add(slug)
    return missed


def _figures(counts: dict[str, int]) -> dict:
    counted = counts["kept"] + counts["removed"] + counts["replaced"]
    found = counts["kept"] + counts["missed"]
    return {
        **counts,
        "counted": counted,
        "precision": counts["kept"] / counted if counted else None,
        "recall_proxy": counts["kept"] / found if found else None,
    }


def _status(row: dict, min_applied: int) -> str:
    if row["flagged"]:
        return "below target"
    return "too few" if row["precision"] is None or row["counted"] < min_applied else "ok"


def _fraction(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _line(name: str, row: dict, target: str, status: str) -> str:
    counts = " | ".join(str(row[key]) for key in ("applied", "kept", "removed", "replaced", "missed"))
    return f"| {name} | {counts} | {_fraction(row['precision'])} | {target} | {status} |"


def report(config) -> str:
    """`monitor`: bring the import's store of issues up to date (only what changed is fetched), measure the
    window config.yaml `label.monitor` sets, and write paths.monitor/report.md and report.json."""
    from pathlib import Path

    from .core import files
    from .issues.github import connect, fetch, store_folder
    from .issues.store import IssueStore

    options, settings = config.import_.github, config.label.monitor
    api = connect(options, "`monitor` reads GitHub's label timeline")
    records = fetch(api, IssueStore(store_folder(options)), options.page_size, api.say)
    actor = _login(config.label.actor)
    result = live_precision(
        records.values(),
        {slug: [label.name, *label.aliases] for slug, label in config.labels.items()},
        lambda login: _login(login) == actor,
        datetime.now(UTC),
        settings.days,
        {slug: config.label.target(slug) for slug in config.labels},
        settings.margin,
        settings.min_applied,
    )
    folder = Path(config.paths.monitor)
    files.write_json(folder / "report.json", result)
    files.write_text(folder / "report.md", render(result))
    print(render(result), end="")
    overall, flagged = result["overall"], result["overall"]["flagged"]
    precision = "–" if overall["precision"] is None else f"{overall['precision']:.2f}"
    below = f"; below target: {', '.join(flagged)} (retrain, or raise its target_precision)" if flagged else ""
    return (
        f"monitor: live precision {precision} of {overall['counted']} judged labels{below}; report: {folder}/report.md"
    )


def _login(login: str) -> str:
    """GraphQL names GitHub Actions' bot `github-actions`, REST `github-actions[bot]`: the same account."""
    return login.lower().removesuffix("[bot]")
