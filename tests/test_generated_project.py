"""The baked project's own checks pass: its lint and its test suite."""

import sys

from conftest import BIN, project_env, run


def test_generated_project_lints_clean(baked):
    project = baked(labels="area/editor, good first issue, 🐛 crash")
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        result = run([str(BIN / command[0]), *command[1:]], cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


def test_generated_project_tests_pass(baked):
    project = baked()
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=project_env(project),
        timeout=1800,  # its slow tests train the tiny pipeline and interrupt training stages
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
