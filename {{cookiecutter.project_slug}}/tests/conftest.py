"""Shared fixtures: the project's own config.yaml, as a file, a dict and a loaded Config; and, for
the slow tests, the pipeline trained on tiny settings."""

import copy
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.core.config import load_config

CONFIG_PATH = Path(__file__).parents[1] / "config.yaml"
DEFAULT_DATA = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def config_data():
    """A fresh, mutable copy of the default config.yaml."""
    return copy.deepcopy(DEFAULT_DATA)


@pytest.fixture
def write_config(tmp_path):
    """Dump a config dict to a file in tmp_path and return its path."""

    def write(data, name="config.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def default_config():
    return load_config(CONFIG_PATH)


# --- slow tests: the pipeline trained on the tiny settings -------------------------------------

TINY = yaml.safe_load(Path(__file__).with_name("tiny.yaml").read_text(encoding="utf-8"))
SRC = Path(__file__).parents[1] / "src"


def set_keys(data: dict, changes: dict) -> dict:
    """Set dotted keys (`classifier.params.epochs`) of a loaded config."""
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        functools.reduce(dict.__getitem__, parents, data)[last] = value
    return data


def package(*args, cwd, timeout=600, env=None) -> subprocess.CompletedProcess:
    """`python -m ARGS` with this project's source importable, in `cwd` (and `env` added)."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A folder with the tiny config.yaml and every stage's outputs, each stage run as dvc.yaml runs it."""
    folder = tmp_path_factory.mktemp("trained")
    data = set_keys(copy.deepcopy(DEFAULT_DATA), TINY)
    (folder / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    stages = [["import_issues"], ["preprocess"], ["finetune_lm"], ["baseline"], ["train"], ["evaluate"]]
    for stage, *args in stages:
        result = package(f"{{ cookiecutter.package_name }}.stages.{stage}", *args, cwd=folder)
        assert result.returncode == 0, f"{stage}: {result.stderr[-3000:]}"
    return folder


def copy_project(folder: Path, into: Path, **changes) -> Path:
    """A copy of a trained folder, its config.yaml changed by dotted keys: a test may change it freely."""
    shutil.copytree(folder, into)
    config = into / "config.yaml"
    data = set_keys(yaml.safe_load(config.read_text(encoding="utf-8")), changes)
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return into


@pytest.fixture(scope="session")
def promoted(trained, tmp_path_factory):
    """A copy of the trained folder whose model is promoted (no gates: the tiny model is weak)."""
    folder = copy_project(trained, tmp_path_factory.mktemp("promoted") / "project", **{"evaluate.gates.macro.f1": None})
    result = package("{{ cookiecutter.package_name }}", "promote", cwd=folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder
