"""The command line as a user meets it: errors are `error:` lines with exit code 2, no traceback."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

SRC = Path(__file__).parents[1] / "src"
CONFIG_PATH = Path(__file__).parents[1] / "config.yaml"
# Runs the package as `python -m` would, then writes the process's own peak memory (VmHWM) to
# $PEAK_FILE. Not ru_maxrss: a child spawned by pytest inherits the pytest process's peak.
OWN_PEAK = """
import os, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
finally:
    with open("/proc/self/status") as status, open(os.environ["PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")))
"""


def cli(*args, cwd):
    """Run `python -m <package> ARGS` in `cwd` and return the finished process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def python_code(script, cwd):
    """Run `python -c SCRIPT` with the package importable, in `cwd`; return the finished process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def assert_user_error(result):
    """Exit code 2, only `error:` lines on stderr, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines
    assert all(line.startswith("error: ") for line in lines), lines
    return lines


def write_config(tmp_path, mutate):
    data = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_check_config_valid(tmp_path):
    result = cli("--config", str(CONFIG_PATH), "check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "is valid; labels:" in result.stdout


def test_check_config_reports_every_problem(tmp_path):
    def mutate(data):
        data["classifier"]["params"]["epoch"] = 10
        data["preprocess"]["val_fraction"] = "a lot"

    path = write_config(tmp_path, mutate)
    lines = assert_user_error(cli("--config", str(path), "check-config", cwd=tmp_path))
    assert len(lines) == 2, lines
    assert any("classifier.params.epoch: unknown key; did you mean 'epochs'" in line for line in lines)
    assert any("preprocess.val_fraction: expected a number; found string 'a lot'" in line for line in lines)


def test_config_flag_after_the_command(tmp_path):
    """`check-config --config FILE` reads naturally, so it works too."""
    result = cli("check-config", "--config", str(CONFIG_PATH), cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_check_config_missing_file(tmp_path):
    lines = assert_user_error(cli("--config", "nope.yaml", "check-config", cwd=tmp_path))
    assert "nope.yaml: not found" in lines[0]


def import_config(tmp_path, dump_name):
    """A config that imports `dump_name` from tmp_path, with every output under tmp_path."""

    def mutate(data):
        data["import"].update(source="file", file=str(tmp_path / dump_name))
        data["paths"] = {key: str(tmp_path / value) for key, value in data["paths"].items()}

    return write_config(tmp_path, mutate)


def test_import_issues_from_an_empty_file(tmp_path):
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    config = import_config(tmp_path, "empty.jsonl")
    lines = assert_user_error(cli("--config", str(config), "import-issues", cwd=tmp_path))
    assert lines == [f"error: {tmp_path / 'empty.jsonl'}: no issues found; expected at least one issue"]
    raw = Path(yaml.safe_load(config.read_text(encoding="utf-8"))["paths"]["raw"])
    assert not raw.exists()
    assert not raw.parent.exists() or not any(raw.parent.iterdir())  # no temporary file left behind


def test_import_then_preprocess(tmp_path):
    # A small valid dump goes through both stages that need no TensorFlow.
    data = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
    names = [label["name"] for label in data["labels"].values()]
    if len(names) < 2:
        pytest.skip("needs two labels")
    first, second = names[:2]
    rows = [{"number": n, "title": f"Issue {n}", "body": "text", "labels": [first]} for n in range(1, 31)]
    rows.append({"number": 31, "title": "Rare", "body": "text", "labels": [second]})
    (tmp_path / "dump.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    config = import_config(tmp_path, "dump.jsonl")

    result = cli("--config", str(config), "import-issues", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imported 31 issues" in result.stdout

    result = cli("--config", str(config), "preprocess", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # Our warnings are one readable line each.
    assert "warning: dropping labels with fewer than preprocess.min_examples" in result.stderr
    assert f"{second!r} (" in result.stderr
    processed = Path(yaml.safe_load(config.read_text(encoding="utf-8"))["paths"]["processed"])
    assert (processed / "issues.jsonl").is_file()
    assert (processed / "summary.json").is_file()


def test_five_megabyte_bodies_take_bounded_time_and_memory(tmp_path):
    """Pasted logs make bodies of megabytes: they are stripped and cut to preprocess.text.max_chars in
    time linear in their size whatever they hold (blank lines, brackets never closed), so nothing
    downstream (tokenisation, training) sees more than max_chars."""
    data = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
    name = next(iter(data["labels"].values()))["name"]
    size = 5_000_000
    bodies = ["It crashes on save. " * (size // 20), "```\n" + "ERROR at line 42\n" * (size // 17), "\n" * size,
              "[" * size, "- OS: \n" * (size // 7)]  # fmt: skip
    rows = [{"number": n, "title": f"Issue {n}", "body": "text", "labels": [name]} for n in range(1, 31)]
    rows += [{"number": 31 + i, "title": "Huge", "body": body, "labels": [name]} for i, body in enumerate(bodies)]
    (tmp_path / "dump.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    config = import_config(tmp_path, "dump.jsonl")
    for stage in ("import-issues", "preprocess"):
        peak = tmp_path / "peak"
        command = [sys.executable, "-c", OWN_PEAK, "{{ cookiecutter.package_name }}", "--config", str(config), stage]
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(SRC), "PEAK_FILE": str(peak)}
        result = subprocess.run(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.monotonic() - started
        assert result.returncode == 0, result.stderr.decode()
        assert seconds < 60, f"{stage} took {seconds:.0f} s"
        kilobytes = int(peak.read_text().split()[1])
        assert kilobytes < 1_000_000, f"{stage} peaked at {kilobytes / 1000:.0f} MB"
    processed = Path(yaml.safe_load(config.read_text(encoding="utf-8"))["paths"]["processed"])
    max_chars = data["preprocess"]["text"]["max_chars"]
    texts = {row["number"]: row["text"] for row in map(json.loads, open(processed / "issues.jsonl"))}
    assert all(len(text) <= max_chars for text in texts.values())
    assert len(texts[31]) == max_chars and texts[32] == texts[33] == "huge"


def test_tensorflows_start_up_lines_stay_out_of_a_commands_output(tmp_path):
    """Loading TensorFlow prints nothing a user could act on; a real message still shows."""
    script = (
        "import os\n"
        "from {{ cookiecutter.package_name }} import runtime\n"
        "with runtime._without_startup_noise():\n"
        "    os.write(2, b'I0000 port.cc:153] oneDNN custom operations are on. You may see...\\n')\n"
        "    os.write(2, b'E0000 real trouble: the model file is damaged\\n')\n"
    )
    result = python_code(script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "E0000 real trouble: the model file is damaged\n"


def test_sigterm_lost_in_a_finaliser_still_stops_without_a_traceback(tmp_path):
    """SIGTERM that lands while Python runs a __del__ (TensorFlow's run often): Python drops the
    exception there; the command stops at its next safe point with the usual one line, exit 143."""
    script = (
        "import gc, os, signal, sys\n"
        "from {{ cookiecutter.package_name }}.core.command import execute, raise_if_stopped\n"
        "class Finalised:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)  # its handler raises inside this finaliser\n"
        "def action():\n"
        "    Finalised()\n"
        "    gc.collect()\n"
        "    print('went on')\n"
        "    raise_if_stopped()\n"
        "sys.exit(execute('train', action))\n"
    )
    result = python_code(script, cwd=tmp_path)
    assert result.returncode == 143, result.stderr
    assert result.stdout == "went on\n"
    assert result.stderr == "train: stopped by SIGTERM; no partial output was left\n"
