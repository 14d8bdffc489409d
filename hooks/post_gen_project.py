"""Make the generated folder a repository in which `dvc repro` works at once: git and DVC
initialised (when installed), the DVC remote configured from the answers, a first commit. Not
when cruft renders the template into a scratch folder to compute an update (see scratch_render)."""

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REMOTE = {{cookiecutter.dvc_remote_url | quote}}
SLUG = {{cookiecutter.project_slug | quote}}
CLOUD = {{cookiecutter.cloud | quote}}
LICENSE = {{cookiecutter.license | quote}}
CRUFT_COMMIT = {{cookiecutter.get("_commit", "") | quote}}  # the template's commit, when cruft renders it


def run(*command: str) -> bool:
    return not failure(*command)


def failure(*command: str) -> str:
    """'' when `command` succeeds, else the last line it printed on stderr (or its exit code)."""
    try:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        return str(error)
    if done.returncode == 0:
        return ""
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {done.returncode}"


def dvc_command() -> list[str] | None:
    if importlib.util.find_spec("dvc") is not None:
        return [sys.executable, "-m", "dvc"]
    found = shutil.which("dvc")
    return [found] if found else None


def remove_unused_cloud_files() -> None:
    """With no cloud there is no GPU runner to train on: no cml or sweep workflow, nor their
    scripts, nor a container image to pin. actionlint's list of runner labels is for a
    self-hosted runner only."""
    if CLOUD == "none":  # nor a DVC remote to pull a promoted model from, for the label workflow
        workflows = [f".github/workflows/{name}.yaml" for name in ("cml", "sweep", "label")]
        for path in (*workflows, "scripts/label.sh", "scripts/pin_images.py"):
            Path(path).unlink()
        shutil.rmtree("scripts/cml")
    if CLOUD != "self-hosted":
        Path(".github/actionlint.yaml").unlink()


def scratch_render() -> bool:
    """`cruft update` (and `diff`, `check`) renders the old and the new template into temporary
    folders of its own (<tmp>/tmpXXXX/<slug>) and applies their diff to the user's repository: a
    .git or .dvc made there would be diffed into it. `cruft create` renders where the user asks."""
    here = Path.cwd().resolve()
    scratch = here.parent.parent == Path(tempfile.gettempdir()).resolve() and here.parent.name.startswith("tmp")
    return bool(CRUFT_COMMIT) and scratch


def main() -> None:
    remove_unused_cloud_files()
    if LICENSE == "none":  # a private project: no license granted
        Path("LICENSE").unlink()
    if scratch_render():
        return
    todo = []
    dvc = dvc_command()
    if not shutil.which("git"):
        todo.append("install git, then run: git init && dvc init")
    elif not run("git", "init", "--quiet", "--initial-branch=main") and not run("git", "init", "--quiet"):
        todo.append("run: git init")
    elif dvc is None:
        todo.append("install DVC (pip install -e .), then run: dvc init")
    else:
        steps = [["init", "--quiet"], ["config", "core.autostage", "true"]]
        if REMOTE:
            steps.append(["remote", "add", "--default", "storage", REMOTE])
        for step in steps:
            failed = failure(*dvc, *step)
            if failed:  # the later steps need the earlier ones: say what failed and what to run
                todo.append(
                    f"dvc {step[0]} failed ({failed}); run: "
                    + " && ".join("dvc " + " ".join(s) for s in steps[steps.index(step) :])
                )
                break
        run("git", "add", "--all")
        if not run("git", "commit", "--quiet", "--message", "Generated from the issue-classifier template"):
            todo.append('make the first commit: git commit -m "Initial commit" (set git user.name/user.email first)')
    print(f"\nGenerated {SLUG}/.")
    print(f"Next: cd {SLUG} && pip install -e . && dvc repro")
    for step in todo:
        print(f"  - still to do: {step}")


if __name__ == "__main__":
    main()
