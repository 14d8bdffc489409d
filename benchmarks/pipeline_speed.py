"""How long a new user waits: issue #2's numbers, measured from a clean clone.

    python3 benchmarks/pipeline_speed.py            # clone HEAD into a scratch folder, measure there
    python3 benchmarks/pipeline_speed.py --keep     # and keep the scratch folder

Measures, in the clone: `make setup` (the virtual environment, from the package registries),
`make demo` after it (bake the demo project + its whole `dvc repro`), that `dvc repro` alone
(re-run from scratch with `--force`), and a `dvc repro` with nothing to do (best of 3).
Goals: setup + demo <= 10 min, the demo's `dvc repro` <= 5 min, the no-op `dvc repro` <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"make setup + make demo": 600, "demo dvc repro": 300, "no-op dvc repro": 3}


def timed(command: list[str], cwd: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {cwd}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch clone")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="pipeline-speed-"))
    clone = scratch / "template"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    figures = {"make setup": timed(["make", "setup"], clone)}
    figures["make demo (after setup)"] = timed(["make", "demo"], clone)
    figures["make setup + make demo"] = figures["make setup"] + figures["make demo (after setup)"]

    project = clone / ".demo" / "issue-triage"
    env = {**os.environ, "PATH": f"{clone / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": "src"}
    shutil.rmtree(project / "models" / "classifiers")  # else `train` keeps the labels whose inputs are unchanged
    figures["demo dvc repro"] = timed(["dvc", "repro", "--force"], project, env)
    figures["no-op dvc repro"] = min(timed(["dvc", "repro"], project, env) for _ in range(3))
    metrics = json.loads((project / "reports" / "metrics.json").read_text())

    print(f"{'measure':<28} {'seconds':>8} {'goal':>6}")
    for name, seconds in figures.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else ("  ok" if seconds <= goal else "  OVER")
        print(f"{name:<28} {seconds:>8.1f} {goal or '':>6}{verdict}")
    for model in ("classifier", "baseline"):
        print(f"demo macro F1 ({model}): {metrics[model]['macro']['f1']:.3f}")
    print(f"cores: {os.cpu_count()}")
    if args.keep:
        print(f"scratch clone kept in {scratch}")
    else:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
