"""Every command the generated files show runs as shown. The commands come from every line of the
README's and docs/'s shell blocks, and from the backticked commands of the tools below there and in
config.yaml's comments. Each one is parsed
by the tool's own parser: the project's CLI, DVC's. The `-S` parameters of `dvc exp run` must
name keys of config.yaml, and `dvc repro`'s targets must be stages. The rest is checked for what
it names: a file, a stage, an endpoint. A backticked command without arguments (`issue-triage
label`) names the command: its --help must work. A command of a tool this test does not know fails it:
add a check or a reason to skip."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from conftest import dvc, project_env, run

TOOLS = (
    r"(dvc|{slug}|python3? -m|scripts/\S+\.(?:sh|py)|pytest|ruff|pip|curl|docker|export|kill|cat|cruft|git|gh)(\s|$)"
)
ELSEWHERE = {  # shown to the user, run by other tests or not safe here
    "pytest": "test_generated_project runs the suite",
    "ruff": "test_generated_project lints",
    "pip": "installs (network)",
    "export": "sets a variable",
    "kill": "needs a running server (tests/test_serve.py sends SIGHUP)",
    "cruft": "tests/test_update.py",
    "git": "git's own",
    "gh": "GitHub's CLI (network)",
}


def shown_commands(project: Path, slug: str) -> list[tuple[str, str]]:
    """(file, command) for each command a generated file shows."""
    tools = re.compile(TOOLS.format(slug=re.escape(slug)))
    found = []
    for path in [project / "README.md", *sorted((project / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = re.sub(r"\s+#\s.*$", "", line).strip()
                if line and not line.startswith("#"):
                    found.append((path.name, line))
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        found += [(path.name, span) for span in re.findall(r"`([^`\n]+)`", prose) if tools.match(span)]
    for line in (project / "config.yaml").read_text(encoding="utf-8").splitlines():
        comment = line.split("#", 1)[1] if "#" in line else ""
        found += [("config.yaml", span) for span in re.findall(r"`([^`\n]+)`", comment) if tools.match(span)]
    return found


def params_key(project: Path, assignment: str) -> str | None:
    """What is wrong with `dvc exp run -S FILE:KEY=VALUE`, or None."""
    if ":" not in assignment.split("=")[0]:
        return f"-S {assignment}: the params file is not params.yaml; expected FILE:KEY=VALUE"
    name, rest = assignment.split(":", 1)
    key = rest.split("=")[0]
    adding = key.startswith(("+", "~"))
    parts = key.lstrip("+~").split(".")
    node = yaml.safe_load((project / name).read_text())
    for part in parts[:-1] if adding else parts:
        if not isinstance(node, dict) or part not in node:
            return f"-S {assignment}: {part!r} is not a key of {name}"
        node = node[part]
    return None


@pytest.mark.parametrize("cloud", ["none", "gcp"])
def test_every_command_the_generated_files_show_runs_as_shown(baked, cloud):
    project = baked(cloud=cloud)
    slug, package = "issue-triage", "issue_triage"
    commands = shown_commands(project, slug)
    assert len(commands) > 40
    problems, cli, dvc_commands = [], [], []
    stages = {path.stem for path in (project / "src" / package / "stages").glob("*.py")}
    outputs = set(yaml.safe_load((project / "config.yaml").read_text())["paths"].values())  # the stages' outputs
    for where, command in commands:
        command = command.removesuffix("&").strip().replace("<slug>", "bug").replace("<stage>", "preprocess")
        words = shlex.split(command.split("&&")[0]) if "<" not in command else command.split()
        tool = words[0]
        if tool == slug or words[:3] in (["python", "-m", package], ["python3", "-m", package]):
            argv = words[1:] if tool == slug else words[3:]
            cli.append((where, command, argv + (["--help"] if len(argv) == 1 else [])))
        elif tool == "dvc":
            dvc_commands.append((where, command, words[1:]))
            settings = [words[i + 1] for i, word in enumerate(words) if word in ("-S", "--set-param")]
            problems += [f"{where}: {command}: {problem}" for s in settings if (problem := params_key(project, s))]
        elif tool in ("python", "python3"):
            module = words[2]
            stage = module.removeprefix(f"{package}.stages.")
            if not module.startswith(f"{package}.stages.") or stage not in stages:
                problems.append(f"{where}: {command}: expected a module {package}.stages.<stage>; found {module}")
        elif tool.endswith(".py"):  # a Python script: its own `parser()` reads the arguments shown
            parse = "import runpy, sys; runpy.run_path(sys.argv[1])['parser']().parse_args(sys.argv[2:])"
            parsed = (project / tool).is_file() and run([sys.executable, "-c", parse, tool, *words[1:]], cwd=project)
            if not parsed or parsed.returncode:
                problems.append(f"{where}: {command}: {tool} does not take these arguments")
        elif tool.startswith("scripts/"):
            if not (project / tool).is_file() or run(["bash", "-n", tool], cwd=project).returncode:
                problems.append(f"{where}: {command}: {tool} is not a script that bash can read")
        elif tool == "cat":
            if words[1] not in outputs:
                problems.append(f"{where}: {command}: {words[1]} is not an output (config.yaml's paths)")
        elif tool == "curl":
            path = re.search(r"localhost:\d+(/\S*)", command).group(1)
            if f'Route("{path}"' not in (project / "src" / package / "serve.py").read_text():
                problems.append(f"{where}: {command}: {path} is not an endpoint of serve")
        elif tool == "docker":
            if words[1] == "build" and not (project / "Dockerfile").is_file():
                problems.append(f"{where}: {command}: no Dockerfile")
        elif tool not in ELSEWHERE:
            problems.append(f"{where}: {command}: a command of {tool}, which this test does not check")

    # the project's commands, parsed by its own parser (nothing runs)
    script = (
        "import contextlib, io, json, sys\n"
        f"from {package}.cli import parser\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    error = io.StringIO()\n"
        "    try:\n"
        "        with contextlib.redirect_stderr(error), contextlib.redirect_stdout(io.StringIO()):\n"
        "            parser().parse_args(argv)\n"
        "    except SystemExit as stop:\n"
        "        if stop.code == 0:  # --help\n"
        "            continue\n"
        "        print(' '.join(argv), '->', error.getvalue().strip().splitlines()[-1])\n"
    )
    result = run([sys.executable, "-c", script, json.dumps([argv for *_, argv in cli])], cwd=project,
                 env=project_env(project))  # fmt: skip
    problems += [f"{slug} {line}" for line in result.stdout.splitlines()] + (
        [result.stderr] if result.returncode else []
    )

    # DVC's: parsed by DVC; `dvc repro` in its dry-run form, in the baked project
    script = (
        "import json, sys\nfrom dvc.cli import parse_args\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    try:\n        parse_args(argv)\n"
        "    except BaseException as error:\n        print(' '.join(argv), '->', error)\n"
    )
    parsed = [argv for *_, argv in dvc_commands if not any("<" in word for word in argv)]
    result = run([sys.executable, "-c", script, json.dumps(parsed)], cwd=project, env=project_env(project))
    problems += [f"dvc {line}" for line in result.stdout.splitlines()] + ([result.stderr] if result.returncode else [])
    names = set(dvc(project, "stage", "list", "--name-only").stdout.split())
    for where, command, argv in dvc_commands:
        targets = [word for word in argv[1:] if not word.startswith("-")]
        if argv[0] == "repro" and not set(targets) <= names:
            problems.append(f"{where}: {command}: {', '.join(sorted(set(targets) - names))} is not a stage")
    assert not problems, "\n".join(problems)
