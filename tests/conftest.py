"""Helpers for the template's tests: bake the template with answers, run what it bakes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(command: list[str], cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def bake(output_dir: Path, **answers: str) -> subprocess.CompletedProcess:
    """`cookiecutter --no-input` with answers as KEY=VALUE arguments, as a user would run it."""
    extra = [f"{key}={value}" for key, value in answers.items()]
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output_dir), str(TEMPLATE)]
    return run(command + extra, cwd=output_dir, env=git_identity(dict(os.environ)))


def project_env(project: Path) -> dict:
    """The generated package importable and this venv's tools (dvc) first on PATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(project / "src")
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    return git_identity(env)


def git_identity(env: dict) -> dict:
    """A commit identity for the generated repositories, on machines with no git config."""
    for role in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{role}_NAME", "template tests")
        env.setdefault(f"GIT_{role}_EMAIL", "tests@example.com")
    return env


def dvc(project: Path, *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "dvc", *args], cwd=project, env=project_env(project))


def set_keys(config: dict, changes: dict) -> dict:
    """Set dotted keys (`classifier.params.epochs`) of a loaded config."""
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value
    return config


def edit_config(project: Path, changes: dict) -> None:
    """Set dotted keys of the project's config.yaml."""
    path = project / "config.yaml"
    config = set_keys(yaml.safe_load(path.read_text()), changes)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


# A pipeline small enough for a test: the generated project's own tiny settings (its slow tests use them).
TINY = yaml.safe_load((TEMPLATE / "{{cookiecutter.project_slug}}" / "tests" / "tiny.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def baked(tmp_path: Path):
    """Bake with answers; return the generated project folder."""

    def _bake(**answers: str) -> Path:
        result = bake(tmp_path, **answers)
        assert result.returncode == 0, result.stderr
        (project,) = [p for p in tmp_path.iterdir() if p.is_dir()]
        return project

    return _bake


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory):
    """The default bake with the TINY config, after a successful `dvc repro`."""
    out = tmp_path_factory.mktemp("pipeline")
    assert bake(out).returncode == 0
    project = out / "issue-triage"
    edit_config(project, TINY)
    result = dvc(project, "repro")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return project
