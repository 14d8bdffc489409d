"""Shared fixtures: the project's own config.yaml, as a file, a dict and a loaded Config."""

import copy
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import load_config

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
