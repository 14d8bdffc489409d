"""`label`: the promoted model's labels on GitHub issues, at the precision config.yaml `label` asks
for, as vscode's classifier and dotnet's issue-labeler apply them.

For each issue: a label is applied when its score clears the threshold that reached the label's
target precision on the validation split (a label that never reached it is never applied), at
most `max_labels`, highest scores first; `default_label` when none clears. It never removes or
replaces a label, leaves alone pull requests and (skip_labelled) issues that already carry a
configured label, and acts once per issue and model version (the state file), so a re-run
changes nothing. A dry run prints the plan and writes nothing to GitHub.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .core import files
from .core.config import Config
from .core.errors import PipelineError
from .issues.api import GitHubAPI
from .predict import Model, Predictor
from .promote import promoted

MARKER = "<!-- {{ cookiecutter.project_slug }}: suggested labels -->"  # finds our comment, to update it
OVERLAP = timedelta(minutes=10)  # a sweep re-reads the last minutes: GitHub's `since` index may lag
RANGE = re.compile(r"(\d+)(?:-(\d+))?")
MAX_ISSUES = 10_000  # of a range: a typo such as 1-100000 is refused, not run


@dataclass
class Decision:
    number: int
    labels: list[str] = field(default_factory=list)  # to apply (or suggest), GitHub names
    scores: dict[str, float] = field(default_factory=dict)  # every label's score
    cleared: dict[str, float] = field(default_factory=dict)  # applied label -> the threshold it cleared
    skipped: str | None = None  # why the issue is left alone

    def line(self) -> str:
        if self.skipped:
            return f"#{self.number}: skipped ({self.skipped})"
        if not self.labels:
            return f"#{self.number}: nothing to apply (no label cleared its threshold)"
        shown = [
            f"{name} ({self.scores[name]:.2f} >= {self.cleared[name]:.2f})"
            if name in self.cleared
            else f"{name} (default)"
            for name in self.labels
        ]
        return f"#{self.number}: " + ", ".join(shown)


def parse_issues(spec: str) -> list[int]:
    """'120-180,201' -> [120, ..., 180, 201]."""
    numbers: list[int] = []
    for part in spec.replace(" ", "").split(","):
        match = RANGE.fullmatch(part)
        low, high = (int(match[1]), int(match[2] or match[1])) if match else (0, -1)
        if not match or low < 1 or high < low:
            raise PipelineError(f"--issues: expected issue numbers and ranges such as 120-180,201; found {part!r}")
        numbers += range(low, high + 1)
    if len(numbers) > MAX_ISSUES:
        raise PipelineError(f"--issues: expected at most {MAX_ISSUES:,} issues; found {len(numbers):,} in {spec!r}")
    return list(dict.fromkeys(numbers))


class State:
    """The state file: the last sweep's time, and the model version that acted on each issue."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        data = files.read_json(self.path) if self.path.is_file() else {}
        self.last_sweep: str | None = data.get("last_sweep")
        self.acted: dict[str, str] = data.get("acted", {})

    def save(self) -> None:
        files.write_json(self.path, {"last_sweep": self.last_sweep, "acted": self.acted})


class Labeller:
    """Plans and applies labels for one repository with one promoted model."""

    def __init__(self, config: Config, api: GitHubAPI, model: Model):
        self.config, self.api, self.model = config, api, model
        self.options = config.label
        self.state = State(self.options.state_file)
        self.saved = model.deployed()
        self.predictor: Predictor | None = None  # loaded when an issue needs scores
        configured = {name for label in config.labels.values() for name in [label.name, *label.aliases]}
        self.configured = configured | {info["name"] for info in self.saved["labels"].values()}
        self.issue_path = f"/repos/{config.import_.github.repo}/issues"

    # --- which issues -----------------------------------------------------------------------

    def read(self, numbers: list[int]) -> list[dict]:
        issues = []
        for number in numbers:
            issue, _ = self.api.rest("GET", f"{self.issue_path}/{number}", missing_ok=True)
            issues.append(issue if issue is not None else {"number": number, "missing": True})
        return issues

    def sweep(self) -> list[dict]:
        """The open issues (and pull requests, skipped later) updated since the last sweep. The next
        sweep starts from the newest update seen, by GitHub's clock, not this machine's."""
        first = datetime.now(UTC) - timedelta(days=self.options.first_sweep_days)
        since = self.state.last_sweep or _iso(first)
        query = f"?state=open&since={since}&sort=updated&direction=asc&per_page=100"
        page, link = self.api.rest("GET", self.issue_path + query)
        issues = list(page)
        while link:
            page, link = self.api.next_page(link)
            issues += page
        newest = max((issue["updated_at"] for issue in issues), default=None)
        self.swept_to = _iso(datetime.fromisoformat(newest) - OVERLAP) if newest else since
        return issues

    # --- what to do -------------------------------------------------------------------------

    def plan(self, issues: list[dict]) -> list[Decision]:
        decisions = [Decision(int(issue["number"]), skipped=self._skip(issue)) for issue in issues]
        todo = [(d, issue) for d, issue in zip(decisions, issues) if not d.skipped]
        if todo:
            if self.predictor is None:
                self.predictor = Predictor(self.model, self.saved)
            scores = self.predictor.scores([issue for _, issue in todo])  # each issue encoded once for all labels
            for i, (decision, issue) in enumerate(todo):
                self._decide(decision, issue, {slug: float(s[i]) for slug, s in scores.items()})
        return decisions

    def _skip(self, issue: dict) -> str | None:
        if issue.get("missing"):
            return "not found"
        if issue.get("pull_request"):
            return "a pull request"
        if self.state.acted.get(str(issue["number"])) == self.model.version:
            return f"already done by model {self.model.version}"
        present = sorted(self.configured & _names(issue))
        if present and self.options.skip_labelled:
            return "already labelled " + ", ".join(present)
        return None

    def _decide(self, decision: Decision, issue: dict, scores: dict[str, float]) -> None:
        cleared = []
        for slug, score in scores.items():
            info = self.saved["labels"][slug]
            decision.scores[info["name"]] = score
            threshold = info["by_precision"].get(f"{self.options.target(slug):.2f}")
            if threshold is not None and score >= threshold:
                cleared.append((score, info["name"], threshold))
        cleared.sort(key=lambda item: (-item[0], item[1]))
        present = _names(issue)
        for _, name, threshold in cleared[: self.options.max_labels]:
            decision.cleared[name] = threshold
            if name not in present:
                decision.labels.append(name)
        default = self.options.default_label
        if not cleared and default and default not in present:
            decision.labels.append(default)

    # --- doing it ---------------------------------------------------------------------------

    def act(self, decision: Decision) -> None:
        """Apply (or suggest) one issue's labels, then remember it was done by this model version."""
        number = decision.number
        if self.options.mode == "apply" and decision.labels:
            self.api.rest("POST", f"{self.issue_path}/{number}/labels", {"labels": decision.labels})
        elif self.options.mode == "comment":
            self._comment(decision)
        self.state.acted[str(number)] = self.model.version
        self.state.save()  # after each issue: a stopped run does not act twice

    def _comment(self, decision: Decision) -> None:
        body = _suggestion(decision, self.model.version)
        page, link = self.api.rest("GET", f"{self.issue_path}/{decision.number}/comments?per_page=100")
        comments = list(page)
        while link:
            page, link = self.api.next_page(link)
            comments += page
        ours = [c for c in comments if MARKER in (c.get("body") or "")]
        if not ours:
            self.api.rest("POST", f"{self.issue_path}/{decision.number}/comments", {"body": body})
        elif ours[0].get("body") != body:
            repo = self.config.import_.github.repo
            self.api.rest("PATCH", f"/repos/{repo}/issues/comments/{ours[0]['id']}", {"body": body})


def _names(issue: dict) -> set[str]:
    return {label["name"] if isinstance(label, dict) else str(label) for label in issue.get("labels") or []}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _suggestion(decision: Decision, version: str) -> str:
    lines = [
        MARKER,
        f"Suggested labels (model `{version}`, each at the precision it reached on validation issues):",
        "",
    ]
    for name in decision.labels:
        if name in decision.cleared:
            lines.append(
                f"- **{name}**: score {decision.scores[name]:.2f}, above its threshold {decision.cleared[name]:.2f}"
            )
        else:
            lines.append(f"- **{name}**: no label reached its threshold")
    if not decision.labels:
        lines.append("No label reached its threshold.")
    return "\n".join(lines) + "\n"


def run(
    config: Config, connect: Callable[[], GitHubAPI], numbers: list[int] | None, apply: bool, plan_file: str | None
) -> str:
    """Label the given issues (or sweep); returns the summary line. `connect` gives the GitHub
    client, once the promoted model is found."""
    model = promoted(config)
    if model is None:
        raise PipelineError(
            f"{config.paths.promoted}/active: no promoted model; expected `promote` to have promoted one "
            "(it does when the trained model passes its gates)"
        )
    labeller = Labeller(config, connect(), model)
    issues = labeller.read(numbers) if numbers is not None else labeller.sweep()
    decisions = labeller.plan(issues)
    for decision in decisions:
        print(decision.line())
        if apply and not decision.skipped:
            labeller.act(decision)
    if plan_file:
        files.write_json(
            plan_file, {"model": model.version, "applied": apply, "issues": [asdict(d) for d in decisions]}
        )
    if apply and numbers is None:
        labeller.state.last_sweep = labeller.swept_to
        labeller.state.save()
    acted = sum(1 for d in decisions if not d.skipped)
    skipped = len(decisions) - acted
    how = "done" if apply else "planned (dry run: nothing was written to GitHub)"
    return f"label: {acted} issues {how}, {skipped} skipped; model {model.version}, mode {config.label.mode}"
