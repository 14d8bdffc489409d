"""Training checkpoints, and the importer's store of issues, through the DVC remote
(checkpoint_sync.py), on a real DVC remote in a local folder: a push is whole or not at all, a pull
checks every hash, a run never sees another's. (The template's tests run the same commands against
emulators of GCS, Azure Blob and S3.)"""

import json
import subprocess
import sys

import pytest
import yaml

from conftest import CONFIG_PATH as CONFIG
from conftest import package, set_keys
from fake_github import TOKEN, FakeGitHub, synthetic_issues
from {{ cookiecutter.package_name }}.checkpoint_sync import RemoteCheckpoints, SyncError
from {{ cookiecutter.package_name }}.core import files

PACKAGE = "{{ cookiecutter.package_name }}"


def repository(folder, remote):
    """A git + DVC repository whose default remote is the folder `remote`."""
    folder.mkdir()
    for command in (["git", "init", "--quiet"], [sys.executable, "-m", "dvc", "init", "--quiet"],
                    [sys.executable, "-m", "dvc", "remote", "add", "--default", "local", str(remote)]):  # fmt: skip
        subprocess.run(command, cwd=folder, check=True, capture_output=True)
    return folder


@pytest.fixture
def machines(tmp_path, monkeypatch):
    """Two machines (repositories) that share one remote; the tests run in the first."""
    remote = tmp_path / "remote"
    first, second = repository(tmp_path / "first", remote), repository(tmp_path / "second", remote)
    monkeypatch.chdir(first)
    return first, second, remote


def cli(*args, cwd, module=False):
    """The package's command (or, `module`, another module of it), with the stand-in GitHub's token."""
    return package(*(args if module else (PACKAGE, *args)), cwd=cwd, env={"GITHUB_TOKEN": TOKEN})


def files_under(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def pushed(first, content=b"state"):
    """One checkpoint file in the machine `first`, pushed for the run `run`."""
    (first / ".checkpoints/a").mkdir(parents=True, exist_ok=True)
    (first / ".checkpoints/a/checkpoint.npz").write_bytes(content)
    sync = RemoteCheckpoints(".checkpoints", "run")
    sync.push()
    return sync


def test_push_then_pull_on_another_machine(machines, monkeypatch):
    first, second, remote = machines
    fit = first / ".checkpoints/train/bug/fit"
    fit.mkdir(parents=True)
    (fit / "checkpoint.npz").write_bytes(b"state" * 1000)
    (fit / "best.npz").write_bytes(b"best")
    (fit / ".checkpoint.tmp.npz").write_bytes(b"half written")  # a write in progress: never sent
    sync = RemoteCheckpoints(".checkpoints", "run-1")
    assert sync.push().startswith("checkpoints: pushed 2 files")
    assert sync.push() is None  # nothing changed, nothing sent
    manifest = json.loads((remote / "checkpoints/run-1/manifest.json").read_text())
    assert set(manifest["files"]) == {"train/bug/fit/checkpoint.npz", "train/bug/fit/best.npz"}

    monkeypatch.chdir(second)
    assert "pulled 2 files" in RemoteCheckpoints(".checkpoints", "run-1").pull()
    assert files_under(second / ".checkpoints") == {
        k: v for k, v in files_under(first / ".checkpoints").items() if "/." not in f"/{k}"
    }
    assert "none for run run-2" in RemoteCheckpoints(".checkpoints", "run-2").pull()  # runs are apart


def test_a_replaced_file_replaces_its_object(machines):
    first, _, remote = machines
    pushed(first, b"one")
    pushed(first, b"two")
    assert len(list((remote / "checkpoints/run/objects").iterdir())) == 1


@pytest.mark.parametrize("damage", ["garbage", "missing", "outside"])
def test_a_damaged_set_is_never_resumed_from(machines, monkeypatch, capsys, damage):
    first, second, remote = machines
    pushed(first)
    root = remote / "checkpoints/run"
    (obj,) = (root / "objects").iterdir()
    if damage == "garbage":
        obj.write_bytes(b"garbage")
    elif damage == "missing":
        obj.unlink()
    else:  # a manifest naming a path outside the checkpoints folder
        manifest = json.loads((root / "manifest.json").read_text())
        manifest["files"] = {"../../escaped": next(iter(manifest["files"].values()))}
        (root / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.chdir(second)
    assert "none usable for run run" in RemoteCheckpoints(".checkpoints", "run").pull()
    assert "are damaged" in capsys.readouterr().err
    assert not (second / ".checkpoints").exists() or files_under(second / ".checkpoints") == {}
    assert not (second.parent / "escaped").exists()


def test_clear_leaves_nothing(machines):
    first, _, remote = machines
    sync = pushed(first)
    assert sync.clear().startswith("checkpoints: removed")
    assert not any(p.is_file() for p in (remote / "checkpoints").rglob("*"))
    assert sync.clear() == "checkpoints: none for run run on the remote"


def test_a_run_name_is_a_plain_name(machines):
    with pytest.raises(SyncError, match="--run: expected letters, digits"):
        RemoteCheckpoints(".checkpoints", "../other")


def test_the_importers_store_travels_through_the_remote(machines):
    """`import-cache push` / `pull`, as scripts/cml/train.sh runs them: the next machine's import
    fetches only the issues changed since the last (GitHub's stand-in, over HTTP)."""
    first, second, _ = machines
    with FakeGitHub(synthetic_issues(300, seed=3, big_body=10_000)) as server:
        for machine in (first, second):
            github = {"import.source": "github", "import.github.api_url": server.url, "import.github.repo": server.repo}
            data = set_keys(yaml.safe_load(CONFIG.read_text(encoding="utf-8")), github)
            (machine / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        assert "none for run import-cache" in cli("import-cache", "pull", cwd=first).stdout
        assert cli(f"{PACKAGE}.stages.import_issues", cwd=first, module=True).returncode == 0
        every = len(server.variables)
        result = cli("import-cache", "push", cwd=first)
        assert result.returncode == 0 and result.stdout.startswith("import-cache: pushed"), result.stderr

        edited = min(server.issues)
        server.edit(edited, title="Edited since the last run")
        asked = len(server.variables)
        result = cli("import-cache", "pull", cwd=second)
        assert result.returncode == 0 and "import-cache: pulled" in result.stdout, result.stderr
        assert cli(f"{PACKAGE}.stages.import_issues", cwd=second, module=True).returncode == 0
        queries = server.variables[asked:]
        assert queries[0]["since"] and len(queries) < every / 2  # only what changed (and an overlap)
    first_issues = files.read_jsonl(first / "data/raw/issues.jsonl")
    second_issues = files.read_jsonl(second / "data/raw/issues.jsonl")
    assert len(second_issues) == len(first_issues) == 300
    assert [i["title"] for i in second_issues if i["number"] == edited] == ["Edited since the last run"]

    (first / "config.yaml").write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("import-cache", "pull", cwd=first)
    assert result.returncode == 0 and "import.source is 'demo': no store of GitHub issues" in result.stdout


def test_a_search_is_pushed_only_in_a_state_it_can_resume_from(machines):
    """keras-tuner writes its files in place: a push that would catch one half-written, or a trial
    its oracle started without its trial.json, keeps the remote's last whole state."""
    first, second, _ = machines
    search = first / ".checkpoints/train/bug/tuner-0123/search"
    (search / "trial_00").mkdir(parents=True)
    (search / "oracle.json").write_text(json.dumps({"start_order": ["00"], "end_order": ["00"]}))
    (search / "trial_00/trial.json").write_text(json.dumps({"trial_id": "00", "status": "COMPLETED"}))
    (search / "trial_00/checkpoint.weights.h5").write_bytes(b"weights")
    sync = RemoteCheckpoints(".checkpoints", "run")
    assert sync.push().startswith("checkpoints: pushed 3 files")
    whole = sync._manifest()

    (search / "oracle.json").write_text(json.dumps({"start_order": ["00", "01"], "end_order": ["00"]}))
    assert sync.push() is None  # trial 01 started, its trial.json not written yet
    (search / "trial_01").mkdir()
    (search / "trial_01/trial.json").write_text('{"trial_id": "01", "hyperparameters": {"val')  # cut off
    assert sync.push() is None and sync._manifest() == whole
    (search / "trial_01/trial.json").write_text(json.dumps({"trial_id": "01", "status": "RUNNING"}))
    assert sync.push().startswith("checkpoints: pushed 4 files")

    RemoteCheckpoints(second / ".checkpoints", "run").pull()
    assert files_under(second / ".checkpoints") == files_under(first / ".checkpoints")
