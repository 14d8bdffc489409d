"""How long `label` takes to plan: 100 issues x 50 labels (issue #14's goal: under 10 s on a 2-core
CPU once the model is loaded).

    .venv/bin/python benchmarks/label_plan.py            # --issues 100 --labels 50 --keep

Bakes the default project into a scratch folder, runs its demo pipeline (`dvc repro`, default
settings: the `scratch` encoder, 4 labels), then makes a 50-label model of it: each extra label
is a copy of a trained label's head, baseline and thresholds under a new slug and name, so every
label costs what a trained one costs (one head and one baseline to score). In this process, with
the generated tests' stand-in GitHub (tests/fake_github.py) serving the issues over HTTP:

1. Loading the model (encoder, heads, baselines): reported, not counted in the goal.
2. The plan of `--issues` demo issues: reading them from the stand-in GitHub (one request an
   issue) and scoring them (each issue encoded once for all labels), then deciding; twice, the
   first run paying TensorFlow's one-time tracing of each head.
3. The same with the 4 trained labels, for the cost per label.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from github_import import bake, clean_up  # noqa: E402

GOAL_SECONDS = 10.0


def widen(project: Path, slugs: list[str], labels: int) -> Path:
    """thresholds.json of a `labels`-label model made of copies of the trained labels."""
    from issue_triage.core import files

    saved = files.read_json(project / "models/thresholds.json")
    for index in range(labels - len(slugs)):
        source, slug = slugs[index % len(slugs)], f"area-{index:03d}"
        shutil.copytree(
            project / "models/classifiers" / source, project / "models/classifiers" / slug, dirs_exist_ok=True
        )
        shutil.copy(project / f"models/baseline/{source}.pkl", project / f"models/baseline/{slug}.pkl")
        saved["labels"][slug] = {**saved["labels"][source], "name": f"area/{index:03d}"}
    path = project / f"models/thresholds-{labels}.json"
    files.write_json(path, saved)
    return path


def measure(config, model, issues, server, token, runs: int = 2) -> dict:
    from issue_triage.issues.api import GitHubAPI
    from issue_triage.label import Labeller
    from issue_triage.predict import Predictor

    start = time.perf_counter()
    predictor = Predictor(model)
    loaded = time.perf_counter() - start
    api = GitHubAPI(server.url, token, server.repo, say=lambda message: None)
    labeller = Labeller(config, api, model)
    labeller.predictor = predictor
    rounds = []
    for _ in range(runs):
        start = time.perf_counter()
        read = labeller.read(issues)
        fetched = time.perf_counter()
        decisions = labeller.plan(read)
        rounds.append((fetched - start, time.perf_counter() - fetched))
    labelled = sum(1 for d in decisions if d.labels)
    return {"load": loaded, "rounds": rounds, "labels": len(labeller.saved["labels"]), "labelled": labelled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=100)
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="label-plan-"))
    project = bake(scratch)
    print(f"dvc repro (demo, default settings) in {project} ...", flush=True)
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # the stages' `python`
    repro = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=project, env=env, capture_output=True, text=True)
    if repro.returncode != 0:
        sys.exit(repro.stdout[-3000:] + repro.stderr[-3000:])
    sys.path[:0] = [str(project / "src"), str(project / "tests")]
    os.chdir(project)
    from fake_github import TOKEN, FakeGitHub
    from issue_triage.core import files
    from issue_triage.core.config import load_config
    from issue_triage.predict import trained

    config = load_config("config.yaml")
    config = dataclasses.replace(config, label=dataclasses.replace(config.label, target_precision=0.5))
    slugs = list(files.read_json("models/thresholds.json")["labels"])
    raw = files.read_jsonl("data/raw/issues.jsonl")[: args.issues]
    base = [{"number": 1, "title": "seed", "body": "", "state": "OPEN", "createdAt": "2024-01-01T00:00:00Z",
             "updatedAt": "2024-01-01T00:00:00Z", "closedAt": None, "author": "alice", "assignees": [],
             "labels": [], "events": []}]  # fmt: skip
    results = {}
    with FakeGitHub(base) as server:
        numbers = [server.add_issue(issue["title"], body=issue["body"]) for issue in raw]
        github = dataclasses.replace(config.import_.github, repo=server.repo, api_url=server.url)
        config = dataclasses.replace(config, import_=dataclasses.replace(config.import_, github=github))
        for labels in (len(slugs), args.labels):
            model = dataclasses.replace(trained(config), thresholds=widen(project, slugs, labels), version="bench")
            results[labels] = measure(config, model, numbers, server, TOKEN)

    print(f"\n{len(numbers)} issues, demo model (scratch encoder, sequence_length {config.encoder.sequence_length}):")
    print("| labels | load | read (GitHub) | plan, 1st | plan, 2nd | 1st in all | issues labelled |")
    print("|---|---|---|---|---|---|---|")
    for labels, r in results.items():
        (read1, plan1), (read2, plan2) = r["rounds"]
        print(f"| {labels} | {r['load']:.1f} s | {read1:.2f} s | {plan1:.2f} s | {plan2:.2f} s | "
              f"{read1 + plan1:.2f} s | {r['labelled']} |")  # fmt: skip
    wide = results[args.labels]["rounds"][0]
    total = sum(wide)
    print(f"\ngoal: {args.issues} issues x {args.labels} labels planned in under {GOAL_SECONDS:g} s after loading: "
          f"{total:.2f} s, {'met' if total < GOAL_SECONDS else 'NOT met'}")  # fmt: skip
    clean_up(scratch, args.keep)


if __name__ == "__main__":
    main()
