"""The GitHub import's numbers (issue #3), against the fake GitHub API of the generated tests.

    .venv/bin/python benchmarks/github_import.py                      # 10,000 issues
    .venv/bin/python benchmarks/github_import.py --issues 20000 --fault-every 50 --keep

Bakes the default project into a scratch folder (cookiecutter, from this working tree) and
imports its fake repository (tests/fake_github.py: a 3 MB body, 150 label events, 120 labels,
invalid UTF-8 among the issues) in this process, the server in a thread beside the client:

1. No faults, 100 issues a request. Client time is the import's wall time less its deliberate
   waits (rate limits, backoff: none here). Goal: under 30 s for 10,000 issues.
2. A fault every `--fault-every` requests, every kind of fake_github.FAULTS in turn, 10 issues a
   request so that every kind comes up. Goal: every issue arrives exactly once, and the dump is
   byte for byte the dump of run 1.
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

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 30.0


def bake(scratch: Path) -> Path:
    env = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com", **os.environ}
    env |= {"GIT_COMMITTER_NAME": env["GIT_AUTHOR_NAME"], "GIT_COMMITTER_EMAIL": env["GIT_AUTHOR_EMAIL"]}
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(scratch), str(ROOT)]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"baking the template failed (run with .venv/bin/python after `make setup`):\n{result.stderr}")
    return scratch / "issue-triage"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--fault-every", type=int, default=50, help="requests between two faults")
    parser.add_argument("--fault-page-size", type=int, default=10, help="issues a request in the faulty run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="github-import-"))
    project = bake(scratch)
    sys.path[:0] = [str(project / "src"), str(project / "tests")]
    from fake_github import FAULTS, REPO, TOKEN, FakeGitHub, synthetic_issues
    from issue_triage.core import files
    from issue_triage.core.config import load_config
    from issue_triage.issues import github
    from issue_triage.issues.api import GitHubAPI
    from issue_triage.issues.records import check_records
    from issue_triage.issues.store import IssueStore

    issues = synthetic_issues(args.issues, seed=0)
    base = dataclasses.replace(
        load_config(project / "config.yaml").import_.github, repo=REPO, backoff_seconds=0.05, timeout_seconds=1.0
    )

    def run(name: str, server: FakeGitHub, page_size: int) -> dict:
        options = dataclasses.replace(base, api_url=server.url, cache_dir=str(scratch / name / "cache"))
        said: list[str] = []
        api = GitHubAPI(options.api_url, TOKEN, options.repo, timeout=1.0, backoff=0.05, say=said.append)
        start = time.perf_counter()
        stored = github.fetch(api, IssueStore(github.store_folder(options)), page_size, said.append)
        records = check_records([stored[number] for number in sorted(stored)], REPO)
        files.write_jsonl(scratch / name / "issues.jsonl", records)
        wall = time.perf_counter() - start
        numbers = [record["number"] for record in records]
        return {
            "wall": wall,
            "waited": api.waited,
            "client": wall - api.waited,
            "requests": server.requests,
            "numbers": numbers,
            "dump": (scratch / name / "issues.jsonl").read_bytes(),
            "said": said,
        }

    with FakeGitHub(issues) as server:
        clean = run("clean", server, page_size=100)
    with FakeGitHub(issues, slow_seconds=1.5) as server:
        server.fault_every = args.fault_every
        faulty = run("faulty", server, page_size=args.fault_page_size)
        faults = dict(server.faults_served)

    expected = sorted(issue["number"] for issue in issues)
    print(f"{args.issues:,} issues from the fake GitHub API ({os.cpu_count()} cores)\n")
    faulty_name = f"fault every {args.fault_every}, {args.fault_page_size} a request"
    runs = {"no faults, 100 a request": clean, faulty_name: faulty}
    print(f"{'run':<32} {'wall s':>7} {'waits s':>8} {'client s':>9} {'requests':>9}")
    for name, f in runs.items():
        print(f"{name:<32} {f['wall']:>7.2f} {f['waited']:>8.2f} {f['client']:>9.2f} {f['requests']:>9,}")
    verdict = "ok" if clean["client"] < GOAL_SECONDS else "OVER"
    print(f"\nclient time, no faults: {clean['client']:.2f} s (goal < {GOAL_SECONDS:.0f} s): {verdict}")
    print(f"faults injected: {sum(faults.values())} ({', '.join(f'{k} {faults.get(k, 0)}' for k in FAULTS)})")
    for name, figures in (("no faults", clean), ("with faults", faulty)):
        numbers = figures["numbers"]
        arrived = len(set(numbers) & set(expected))
        print(
            f"{name}: {arrived:,}/{len(expected):,} issues arrived ({100 * arrived / len(expected):.1f}%), "
            f"{len(numbers) - len(set(numbers))} duplicates, {len(set(numbers) - set(expected))} unknown"
        )
    identical = faulty["dump"] == clean["dump"]
    print(f"dump with faults identical to the dump without: {identical}")
    waits = [line for line in faulty["said"] if ": waiting" in line or "; retry " in line]
    print(f"waits and retries announced on the terminal: {len(waits)}")
    if args.keep:
        print(f"scratch folder kept: {scratch}")
    else:
        shutil.rmtree(scratch)
    if not (identical and clean["numbers"] == expected and clean["client"] < GOAL_SECONDS):
        sys.exit(1)


if __name__ == "__main__":
    main()
