"""The GitHub import's numbers (issue #3), against the fake GitHub API of the generated tests.

    .venv/bin/python benchmarks/github_import.py                      # 10,000 issues
    .venv/bin/python benchmarks/github_import.py --issues 20000 --fault-every 50 --keep

Bakes the default project into a scratch folder (cookiecutter, from this working tree) and
imports its fake repository (tests/fake_github.py: a 3 MB body, 150 label events, 120 labels,
invalid UTF-8 among the issues) in this process, the server in a thread beside the client:

1. No faults, 100 issues a request, the server in a child process so that this process's peak
   resident memory is the client's own. Client time is the import's wall time less its deliberate
   waits (rate limits, backoff: none here). Goals: under 30 s for 10,000 issues; for 100,000
   (issue #16) under 60 s and 1 GB. The store's size on disk and the dump's are reported.
2. A fault every `--fault-every` requests, every kind of fake_github.FAULTS in turn, 10 issues a
   request so that every kind comes up. Goal: every issue arrives exactly once, and the dump is
   byte for byte the dump of run 1. `--fault-every 0` skips this run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = {10_000: 30.0, 100_000: 60.0}  # client time, by issues (issues #3, #16)
SERVER = """
import json, sys
from fake_github import FakeGitHub, synthetic_issues
issues = synthetic_issues(int(sys.argv[1]), seed=0)
with open(sys.argv[2], "w") as f:
    json.dump(sorted(issue["number"] for issue in issues), f)
with FakeGitHub(issues) as server:
    print(server.url, flush=True)
    sys.stdin.read()  # until the benchmark closes it
    print(server.requests, flush=True)
"""


class ServerProcess:
    """FakeGitHub over `count` synthetic issues, in a child process; `.numbers`: theirs, sorted."""

    def __init__(self, project: Path, count: int, scratch: Path):
        env = {**os.environ, "PYTHONPATH": f"{project / 'tests'}{os.pathsep}{project / 'src'}"}
        self.process = subprocess.Popen([sys.executable, "-c", SERVER, str(count), str(scratch / "numbers.json")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
        self.url = self.process.stdout.readline().strip()
        if not self.url:
            sys.exit("the fake GitHub server did not start")
        self.numbers = json.loads((scratch / "numbers.json").read_text())
        self.requests = 0

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        self.requests = int(self.process.stdout.readline() or 0)
        self.process.wait(timeout=60)


def disk_mb(path: Path) -> float:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file()) / 2**20


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

    with ServerProcess(project, args.issues, scratch) as server:
        clean = run("clean", server, page_size=100)
    clean["requests"] = server.requests
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the client's: before the faulty run
    expected = server.numbers
    runs = {"no faults, 100 a request": clean}
    if args.fault_every:
        with FakeGitHub(synthetic_issues(args.issues, seed=0), slow_seconds=1.5) as faulty_server:
            faulty_server.fault_every = args.fault_every
            faulty = run("faulty", faulty_server, page_size=args.fault_page_size)
            faults = dict(faulty_server.faults_served)
        runs[f"fault every {args.fault_every}, {args.fault_page_size} a request"] = faulty

    print(f"{args.issues:,} issues from the fake GitHub API ({os.cpu_count()} cores)\n")
    print(f"{'run':<32} {'wall s':>7} {'waits s':>8} {'client s':>9} {'requests':>9}")
    for name, f in runs.items():
        print(f"{name:<32} {f['wall']:>7.2f} {f['waited']:>8.2f} {f['client']:>9.2f} {f['requests']:>9,}")
    goal = GOAL_SECONDS[min((n for n in GOAL_SECONDS if n >= args.issues), default=max(GOAL_SECONDS))]
    verdict = "ok" if clean["client"] < goal else "OVER"
    print(f"\nclient time, no faults: {clean['client']:.2f} s (goal < {goal:.0f} s): {verdict}")
    print(f"client peak resident memory: {peak_mb:.0f} MB; the store {disk_mb(scratch / 'clean' / 'cache'):.0f} MB "
          f"on disk, the dump {len(clean['dump']) / 2**20:.0f} MB")  # fmt: skip
    if not args.fault_every:
        finish(scratch, args.keep, clean["numbers"] == expected and clean["client"] < goal)
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
    finish(scratch, args.keep, identical and clean["numbers"] == expected and clean["client"] < goal)


def finish(scratch: Path, keep: bool, met: bool) -> None:
    clean_up(scratch, keep)
    sys.exit(0 if met else 1)


def clean_up(scratch: Path, keep: bool) -> None:
    """Every benchmark's end: its scratch folder removed, or kept and named (`--keep`)."""
    if keep:
        print(f"kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
