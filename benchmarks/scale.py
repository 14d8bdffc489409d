"""The pipeline at scale (issue #16): every stage's wall time and peak memory on a synthetic tracker
of 1k, 10k and 100k issues with 4, 50 and 200 labels, on CPU with the `scratch` encoder.

    .venv/bin/python benchmarks/scale.py                                  # 1k and 10k x 4, 50, 200
    .venv/bin/python benchmarks/scale.py --issues 100000 --labels 200 --lm-epochs 0   # the big case
    .venv/bin/python benchmarks/scale.py --issues 1000 --labels 4 50 --out scale.json --keep
    .venv/bin/python benchmarks/scale.py --issues 100000 --labels 200 --lm-epochs 0 --words 150  # real vocabulary

The corpus is the demo generator's (issues/demo.py, deterministic), with area labels as a big
tracker has them: `--labels` - 4 areas beside the demo's four kinds, each issue in one to three,
drawn from a Zipf law (a long tail of rare areas), an area named in its issue's text four times in
five. `--words N` appends N words to each issue drawn from a Zipf law over 2 million word types,
a big tracker's vocabulary (identifiers, paths, versions): with 150, 1,200 issues have the 134,000
distinct 1-2-grams of the 1,200 real issues of the dev set, where the demo's texts have a few
thousand. Each case bakes the default project, points `import` at the corpus as a dump file, and runs
`dvc repro <stage>` stage by stage, timing each (GNU time: wall seconds, the peak resident memory
of the biggest process). `train` trains every label in one process; a label's share is its time
over the labels. Then a no-op `dvc repro`, and `predict` of 1,000 issues. The language model
trains `--lm-epochs` epochs a phase (1: its throughput is what the projection needs; 0: no
phase, finetune_lm only encodes the issues, for a big case's memory and the other stages). Growth
between two sizes is reported as the exponent k of time ~ size^k (1: linear).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from github_import import bake, clean_up  # noqa: E402 (the benchmarks' one way to bake the template)

STAGES = ["import_issues", "preprocess", "finetune_lm", "baseline", "train", "evaluate"]
SUBAREAS = ("rendering", "startup", "layout", "keybindings", "accessibility", "performance",
            "localization", "telemetry", "sync", "updates", "workspace trust", "profiles")  # fmt: skip
DEMO_KINDS = ("bug", "enhancement", "question", "documentation")


def area_names(count: int, areas: tuple[str, ...]) -> list[str]:
    return [f"{areas[k % len(areas)]} {SUBAREAS[k // len(areas) % len(SUBAREAS)]}" for k in range(count)]


WORD_TYPES = 2_000_000


def corpus(issues: int, names: list[str], seed: int, generate, words: int = 0) -> list[dict]:
    """The demo issues, with the area labels `names` added (Zipf-drawn, one to three an issue) and
    `words` Zipf-drawn words each."""
    rng = random.Random(seed)
    weights = [1 / (k + 1) ** 1.1 for k in range(len(names))]
    rows = generate(issues, seed)
    ranks = np.minimum(np.random.default_rng(seed).zipf(1.1, size=(issues, words)), WORD_TYPES)
    for row, drawn in zip(rows, ranks):
        if words:
            row["body"] += "\n\n" + " ".join(f"w{rank:x}" for rank in drawn)
        if not names or not row["labels"]:  # untriaged issues stay unlabelled
            continue
        chosen = set(rng.choices(names, weights=weights, k=rng.choices((1, 2, 3), weights=(6, 3, 1))[0]))
        for name in sorted(chosen):
            if rng.random() < 0.8:
                row["body"] += f"\n\nThis happens in the {name} part."
        row["labels"] = row["labels"] + [f"area: {name}" for name in sorted(chosen)]
    return rows


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def configure(project: Path, labels: int, areas: list[str], lm_epochs: int) -> None:
    config = yaml.safe_load((project / "config.yaml").read_text())
    config["import"].update(source="file", file="data/external/issues.jsonl")
    names = list(DEMO_KINDS[:labels]) + [f"area: {name}" for name in areas]
    config["labels"] = {slug(name): {"name": name, "aliases": []} for name in names}
    for phase in ("finetune", "supervised"):  # 0: no training phase, finetune_lm only encodes
        config["language_model"][phase].update(epochs=max(lm_epochs, 1), enabled=lm_epochs > 0)
    (project / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def measured(command: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of `command`, by GNU time."""
    report = cwd / ".time"
    result = subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%e %M", *command], cwd=cwd, env=env,
                            capture_output=True, text=True)  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    seconds, kilobytes = report.read_text().split()[-2:]
    return float(seconds), int(kilobytes) / 1024


def run_case(template: Path, scratch: Path, issues: int, labels: int, lm_epochs: int, seed: int, words: int) -> dict:
    from issue_triage.core import files  # the baked package (main puts it on the path)
    from issue_triage.issues import demo

    project = scratch / f"{issues}x{labels}"
    shutil.copytree(template, project, symlinks=True)
    areas = area_names(max(labels - len(DEMO_KINDS), 0), demo.AREAS)
    configure(project, labels, areas, lm_epochs)
    rows = corpus(issues, areas, seed, demo.generate, words)
    (project / "data/external").mkdir(parents=True, exist_ok=True)
    files.write_jsonl(project / "data/external/issues.jsonl", rows)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": "src", "HOME": str(project)}
    figures: dict = {"issues": issues, "labels": labels, "words": words, "stages": {}}
    for stage in STAGES:
        seconds, megabytes = measured(["dvc", "repro", stage], project, env)
        figures["stages"][stage] = {"seconds": seconds, "peak_mb": megabytes}
        print(f"  {issues:>7} x {labels:>3}  {stage:<14} {seconds:8.1f} s {megabytes:8.0f} MB", flush=True)
    trained = len(list((project / "models/classifiers").glob("*/head.npz")))
    figures["stages"]["train"]["per_label_seconds"] = figures["stages"]["train"]["seconds"] / labels
    figures["trained_labels"] = trained
    figures["baseline_mb"] = sum(path.stat().st_size for path in (project / "models/baseline").iterdir()) / 1e6
    started = time.perf_counter()
    for _ in range(3):
        subprocess.run(["dvc", "repro"], cwd=project, env=env, capture_output=True, check=True)
    figures["noop_repro_seconds"] = (time.perf_counter() - started) / 3
    new = project / "new.jsonl"
    files.write_jsonl(new, rows[:1000])
    figures["predict_1000"] = dict(zip(("seconds", "peak_mb"), measured(
        [sys.executable, "-m", "issue_triage", "predict", str(new)], project, env)))  # fmt: skip
    figures["metrics"] = json.loads((project / "reports/metrics.json").read_text())
    return figures


def growth(cases: list[dict], key: str) -> list[str]:
    """time ~ size^k between consecutive sizes of `key` (issues or labels), the other fixed."""
    other = "labels" if key == "issues" else "issues"
    lines = []
    for fixed in sorted({c[other] for c in cases}):
        row = sorted((c for c in cases if c[other] == fixed), key=lambda c: c[key])
        for a, b in zip(row, row[1:]):
            for stage in STAGES:
                ta, tb = a["stages"][stage]["seconds"], b["stages"][stage]["seconds"]
                k = math.log(max(tb, 1e-3) / max(ta, 1e-3)) / math.log(b[key] / a[key])
                lines.append(f"{other} {fixed}: {key} {a[key]} -> {b[key]}: {stage} k = {k:.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--labels", type=int, nargs="+", default=[4, 50, 200])
    parser.add_argument("--lm-epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--words", type=int, default=0, help="Zipf-drawn words added to each issue (150: real)")
    parser.add_argument("--out", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="scale-"))
    template = bake(scratch / "baked")
    sys.path.insert(0, str(template / "src"))
    cases = [run_case(template, scratch, n, k, args.lm_epochs, args.seed, args.words)
             for n in args.issues for k in args.labels]  # fmt: skip
    print(f"\n{'issues':>7} {'labels':>6} " + " ".join(f"{s:>14}" for s in STAGES) + "  no-op  predict")
    for c in cases:
        cells = " ".join(f"{c['stages'][s]['seconds']:>6.1f}s/{c['stages'][s]['peak_mb']:>5.0f}MB" for s in STAGES)
        tail = f"{c['noop_repro_seconds']:>5.1f}s {c['predict_1000']['seconds']:>6.1f}s"
        print(f"{c['issues']:>7} {c['labels']:>6} {cells} {tail}")
    for c in cases:
        print(f"{c['issues']} x {c['labels']}: a label's stage {c['stages']['train']['per_label_seconds']:.2f} s "
              f"({c['trained_labels']} trained, the rest dropped by preprocess); "
              f"models/baseline {c['baseline_mb']:.0f} MB")  # fmt: skip
    for line in growth(cases, "issues") + growth(cases, "labels"):
        print(line)
    if args.out:
        args.out.write_text(json.dumps(cases, indent=2) + "\n")
    clean_up(scratch, args.keep)


if __name__ == "__main__":
    main()
