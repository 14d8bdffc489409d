"""dvc.yaml's code deps follow the imports: each stage lists exactly the package's modules that its
module imports, directly or through others (its import closure), so that an edit re-runs the
stages whose code it changes and no others. A module that holds nothing but a docstring (an empty
`__init__.py`) changes no stage and is not listed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
SRC = PROJECT / "src"


def module_file(name: str) -> Path:
    path = SRC.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imported(name: str) -> set[str]:
    """The package's modules that module `name` imports anywhere in its code (functions too)."""
    path = module_file(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t.split(".")[0] == PACKAGE and module_file(t).is_file()}
    return found


def closure(name: str) -> set[str]:
    """`name`, what it imports, and the packages above each (Python runs their __init__ first)."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parts = current.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += imported(current)
    return seen


def has_code(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    docstring = body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    return bool(body[1:] if docstring else body)


def code_files(name: str) -> set[str]:
    files = {module_file(module) for module in closure(name)}
    return {str(path.relative_to(PROJECT)) for path in files if has_code(path)}


def listed_code(deps: list[str]) -> set[str]:
    """The .py files that a stage's deps name: files, and every file of a folder."""
    listed = set()
    for dep in deps:
        path = PROJECT / dep
        if not dep.startswith(f"src/{PACKAGE}"):
            continue
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        listed |= {str(f.relative_to(PROJECT)) for f in files if has_code(f)}
    return listed


STAGES = yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


@pytest.mark.parametrize("stage", list(STAGES))
def test_code_deps_are_the_import_closure(stage):
    spec = STAGES[stage].get("do", STAGES[stage])
    module = re.search(r"python -m (\S+)", spec["cmd"]).group(1)
    assert module == f"{PACKAGE}.stages.{stage}", f"{stage}: runs {module}, expected its own stage module"
    assert listed_code(spec["deps"]) == code_files(module)


def test_every_stage_module_is_a_stage():
    modules = {path.stem for path in (SRC / PACKAGE / "stages").glob("*.py") if path.stem != "__init__"}
    assert modules == set(STAGES)


def test_closure_follows_relative_imports_and_skips_empty_modules():
    files = code_files(f"{PACKAGE}.stages.evaluate")
    assert f"src/{PACKAGE}/core/config.py" in files and f"src/{PACKAGE}/report.py" in files
    assert f"src/{PACKAGE}/stages/__init__.py" not in files  # a docstring only
    assert not any("language_model" in path or "classifier" in path for path in files)
