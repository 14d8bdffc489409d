"""Promotion and rollback of the model that `label` (and the HTTP service) use, as dotnet's
issue-labeler promotes: the trained model is copied into paths.promoted/active when it passes its
gates, is not worse than the promoted model by more than evaluate.max_regression, and its copy
reproduces evaluate's test scores through the prediction path (train/serve consistency); the
model it replaces moves to backup/, for `rollback`.

Both folders are DVC-tracked (active.dvc, backup.dvc, and versions.json naming each model's
version, all committed to git): a `label` run at any commit uses exactly the model promoted
then, and DVC's content-addressed storage keeps the copies free. A model's version is the hash of
its files, so the same training gives the same version."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from . import gates
from .checkpoint_sync import current_commit
from .core import files
from .core.config import Config, EncoderConfig
from .core.errors import PipelineError
from .dataset import ISSUES, SUMMARY
from .predict import LAYOUT, MODEL_CARD, Model, Predictor, trained

ACTIVE, BACKUP, VERSIONS = "active", "backup", "versions.json"
TOLERANCE = 1e-6  # served scores vs evaluate's


class NotPromoted(PipelineError):
    """The trained model stays out of service; the message says why."""


def version_of(folder: Path) -> str:
    """The hash of a model's files (its card aside): same files, same version."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MODEL_CARD):
        digest.update(str(path.relative_to(folder).as_posix()).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def promoted(config: Config, which: str = ACTIVE) -> Model | None:
    folder = Path(config.paths.promoted) / which
    return Model.at(folder) if (folder / MODEL_CARD).is_file() else None


def _settings(config: Config, model: Model) -> dict:
    """The text rules and encoder layout the trained model was made with (not config.yaml's now)."""
    summary = files.read_json(Path(config.paths.processed) / SUMMARY)
    if "text" not in summary:
        raise NotPromoted(f"{config.paths.processed}: made by an older version of preprocess; run `dvc repro`")
    metas = sorted(model.classifiers.glob("*/meta.json"))
    if not metas:
        raise NotPromoted(f"{model.classifiers}: no trained label; expected the trained model: run `dvc repro`")
    meta = files.read_json(metas[0])
    return {
        "text": summary["text"],
        "encoder": {f.name: meta[f.name] for f in dataclasses.fields(EncoderConfig)},
    }


def raw_test_issues(config: Config) -> list[dict]:
    """The test split's issues as they were imported (title, body): what the prediction path reads."""
    split = {row["number"]: row["split"] for row in files.read_jsonl(Path(config.paths.processed) / ISSUES)}
    return [issue for issue in files.read_jsonl(config.paths.raw) if split.get(issue["number"]) == "test"]


def consistency(config: Config, model: Model) -> float:
    """The largest difference between the prediction path's scores of the test issues and evaluate's."""
    expected = {row["number"]: row["scores"] for row in files.read_jsonl(model.predictions)}
    issues = [issue for issue in raw_test_issues(config) if issue["number"] in expected]
    if len(issues) != len(expected):
        raise NotPromoted(
            f"{config.paths.raw}: holds {len(issues)} of the {len(expected)} test issues evaluate scored; "
            "expected the data the model was trained on: run `dvc repro`"
        )
    predictor = Predictor(model)
    served = predictor.scores(issues)
    return max(
        (
            abs(float(served[slug][i]) - expected[issue["number"]][slug])
            for slug in served
            for i, issue in enumerate(issues)
        ),
        default=0.0,
    )


def _copy(config: Config, into: Path) -> None:
    source = trained(config)
    for key, name in LAYOUT.items():
        path = getattr(source, key)
        if not path.exists():
            raise NotPromoted(f"{path} not found; expected the trained model: run `dvc repro` first")
        if path.is_dir():
            shutil.copytree(path, into / name, ignore=shutil.ignore_patterns("vectors.*"))  # training-only cache
        else:
            shutil.copy2(path, into / name)


def promote(config: Config) -> str:
    """Promote the trained model, or say why not (NotPromoted)."""
    model = trained(config)
    saved = model.deployed()
    new_metrics = model.test_metrics()
    checked = gates.gates(config, new_metrics)
    print(gates.table(checked), end="")
    current = promoted(config)
    staying = f"; the promoted model ({current.version}) stays in service" if current else ""
    if gates.missed(checked):
        missed = ", ".join(gate.describe() for gate in gates.missed(checked))
        raise NotPromoted(f"not promoted: gate missed: {missed}{staying}")
    if current:
        worse = gates.regressions(checked, current.test_metrics(), config.evaluate.max_regression)
        if worse:
            raise NotPromoted(f"not promoted: worse than the promoted model: {', '.join(worse)}{staying}")

    root = Path(config.paths.promoted)
    root.mkdir(parents=True, exist_ok=True)
    staged = root / ".staged"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    try:
        _copy(config, staged)
        version = version_of(staged)
        if current and current.version == version:
            return f"the trained model is the promoted one (version {version}): nothing to do"
        card = {
            "version": version,
            "promoted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": current_commit(),
            "model": saved["model"],
            "macro_f1": new_metrics["macro"]["f1"],
            **_settings(config, model),
        }
        files.write_json(staged / MODEL_CARD, card)
        gap = consistency(config, Model.at(staged))
        if gap > TOLERANCE:
            raise NotPromoted(
                f"not promoted: the prediction path's test scores differ from evaluate's by up to {gap:.2g} "
                f"(expected at most {TOLERANCE:g}): prediction does not reproduce training{staying}"
            )
        _rotate(root, staged)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    _record(config)
    return (
        f"promoted version {version} (macro F1 {card['macro_f1']:.3f}, test scores reproduced to {gap:.1g})"
        + (f"; {current.version} kept as {BACKUP}" if current else "")
        + f"; record it: git add {root} && git commit, and dvc push"
    )


def rollback(config: Config) -> str:
    """Put the backup model back in service; the model it replaces becomes the backup."""
    root = Path(config.paths.promoted)
    current, backup = promoted(config), promoted(config, BACKUP)
    if backup is None:
        raise PipelineError(f"rollback: {root}/{BACKUP} holds no model; expected a model promoted before this one")
    swap = root / ".swap"
    shutil.rmtree(swap, ignore_errors=True)
    (root / BACKUP).rename(swap)
    if current:
        (root / ACTIVE).rename(root / BACKUP)
    swap.rename(root / ACTIVE)
    _record(config)
    return f"rolled back to version {backup.version}" + (f"; {current.version} is the backup now" if current else "")


def _rotate(root: Path, staged: Path) -> None:
    """staged -> active, active -> backup (the old backup goes), each step a rename."""
    active, backup = root / ACTIVE, root / BACKUP
    if active.exists():
        shutil.rmtree(backup, ignore_errors=True)
        active.rename(backup)
    staged.rename(active)


def _record(config: Config) -> None:
    """versions.json for people and git history; active.dvc and backup.dvc for DVC, in a DVC project."""
    root = Path(config.paths.promoted)
    present = {which: promoted(config, which) for which in (ACTIVE, BACKUP)}
    files.write_json(
        root / VERSIONS,
        {which: files.read_json(root / which / MODEL_CARD) if model else None for which, model in present.items()},
    )
    tracked = [str(root / which) for which, model in present.items() if model]
    if Path(".dvc").is_dir() and tracked:
        result = subprocess.run(
            [sys.executable, "-m", "dvc", "add", "--quiet", *tracked], capture_output=True, text=True
        )
        if result.returncode:
            raise PipelineError(f"dvc add {' '.join(tracked)}: {result.stderr.strip() or result.stdout.strip()}")
    for which, model in present.items():
        if model is None:
            Path(root / f"{which}.dvc").unlink(missing_ok=True)
