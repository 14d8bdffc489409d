"""The GitHub import as DVC runs it, `python -m <package> import-issues` in a process of its own:
killed with SIGKILL at any moment and run again, it ends with the very file of an uninterrupted
run; its errors are `error:` lines; the token is in none of its files and none of its output."""

import copy
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from fake_github import REPO, TOKEN, FakeGitHub, synthetic_issues

SRC = Path(__file__).parents[1] / "src"
CONFIG_PATH = Path(__file__).parents[1] / "config.yaml"
ISSUES = synthetic_issues(2000, seed=2, big_body=300_000)


def write_config(folder: Path, server: FakeGitHub) -> Path:
    data = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
    data["import"]["source"] = "github"
    data["import"]["github"].update(
        repo=REPO,
        api_url=server.url,
        cache_dir=str(folder / "cache"),
        page_size=50,
        backoff_seconds=0.01,
        timeout_seconds=5,
    )
    data["paths"]["raw"] = str(folder / "data" / "issues.jsonl")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def start(config: Path, log: Path, token: str = TOKEN) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "GITHUB_TOKEN": token}
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "import-issues", "--config", str(config)]
    with open(log, "w") as output:
        return subprocess.Popen(command, cwd=config.parent, env=env, stdout=output, stderr=subprocess.STDOUT)


def finish(config: Path, log: Path) -> str:
    process = start(config, log)
    assert process.wait(timeout=60) == 0, log.read_text()
    return log.read_text()


def test_killed_anywhere_the_rerun_ends_with_the_same_file(tmp_path):
    rng = random.Random(0)
    with FakeGitHub(copy.deepcopy(ISSUES), delay=0.005) as server:
        output = finish(write_config(tmp_path / "clean", server), tmp_path / "clean.log")
        assert "2,000/2,000 issues fetched" in output
        expected = (tmp_path / "clean" / "data" / "issues.jsonl").read_bytes()

        config = write_config(tmp_path / "killed", server)
        raw = tmp_path / "killed" / "data" / "issues.jsonl"
        for run, requests in enumerate((1, 3, 6, 2, 8, 4)):  # 40 pages and 2 follow-ups in all
            target = server.requests + requests
            process = start(config, tmp_path / f"killed-{run}.log")
            deadline = time.monotonic() + 30
            while server.requests < target and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.0005)
            time.sleep(rng.uniform(0, 0.01))  # during the page, while storing it, or between pages
            assert process.poll() is None, "the import ended before it could be killed"
            process.send_signal(signal.SIGKILL)
            process.wait()
            assert not raw.exists()  # no partial output

        output = finish(config, tmp_path / "resumed.log")
        assert "resuming the interrupted import" in output
        assert raw.read_bytes() == expected
        numbers = [line.split('"number": ')[1].split(",")[0] for line in expected.decode().splitlines()]
        assert len(numbers) == len(set(numbers)) == len(ISSUES)

    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def run_cli(config: Path, token: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC), "GITHUB_TOKEN": token}
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "import-issues", "--config", str(config)]
    return subprocess.run(command, cwd=config.parent, env=env, capture_output=True, text=True, timeout=60)


def test_errors_are_one_line_and_exit_2(tmp_path):
    with FakeGitHub(copy.deepcopy(ISSUES[:50])) as server:
        config = write_config(tmp_path, server)
        for token, words in (("ghp_wrong", "error: bad token: GitHub answered 401"), ("", "GITHUB_TOKEN is not set")):
            result = run_cli(config, token)
            assert result.returncode == 2, result.stderr
            assert "Traceback" not in result.stderr
            last = result.stderr.splitlines()[-1]  # after the progress lines, if any
            assert last.startswith("error: ") and words in last
        result = run_cli(config, TOKEN)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"imported 50 issues from github into {tmp_path}")
        assert TOKEN not in result.stdout + result.stderr
