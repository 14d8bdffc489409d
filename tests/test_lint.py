"""The template's own Python (hooks and the generated project are linted once baked)."""

from conftest import BIN, TEMPLATE, run


def test_template_code_lints_clean():
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        result = run([str(BIN / command[0]), *command[1:]], cwd=TEMPLATE)
        assert result.returncode == 0, result.stdout + result.stderr
