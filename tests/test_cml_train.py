"""The training job's script (scripts/cml/train.sh) end to end on a baked project, on CPU, with a
stand-in `cml` and a real DVC remote served by a local emulator of each cloud's storage: the
report holds the metrics, the comment goes to the commit, dvc.lock and metrics are committed
back, and a fresh clone + `dvc pull` restores byte-identical outputs.

Training once is enough: a cloud-none project is trained in a fixture, and each cloud's project
starts from a copy of its outputs and DVC cache (same code, config and dvc.lock, so valid),
less the evaluate stage's outputs, which train.sh's `dvc repro` makes again (an evaluate
parameter differs, so that they are not simply restored from the cache)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cml_stubs import FakeGitHub, cml_calls, stub_cml
from conftest import BIN, TEMPLATE, TINY, bake, dvc, edit_config, project_env, run

OUTPUTS = ("data", "models", "reports")
EVALUATE_OUTPUTS = ("models/thresholds.json", "reports/test_predictions.jsonl", "reports/plots", "reports/report.md",
                    "reports/metrics.json")  # fmt: skip
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
BUCKET = "issue-triage-dvc"  # the default remote of project "Issue Triage": <scheme>://issue-triage-dvc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(command: list[str], port: int, cwd: Path) -> subprocess.Popen:
    """Start an emulator on 127.0.0.1:port and wait until it accepts connections. Its log goes to
    a file in cwd: a pipe that nobody reads fills up (moto logs every request) and stalls it."""
    log = cwd / f"{Path(command[0]).name}-{port}.log"
    with log.open("wb") as file:
        server = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=file)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{command[0]} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{command[0]} did not start on port {port}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture
def storage(request, tmp_path):
    """The emulator of the cloud's storage, with the bucket (container) made: yields the
    environment and the `dvc remote modify --local` settings that point DVC at it."""
    cloud, port = request.param, free_port()
    if cloud == "gcp":
        command = [str(BIN / "gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port),
                   "--in-memory", "--default-bucket", BUCKET, "--quiet"]  # fmt: skip
        server = serve(command, port, tmp_path)
        setup = ({"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"}, {})
    elif cloud == "aws":
        server = serve([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], port, tmp_path)
        import boto3

        endpoint = f"http://127.0.0.1:{port}"
        keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket=BUCKET)  # fmt: skip
        setup = (keys, {"endpointurl": endpoint})
    else:
        azurite = TEMPLATE / "node_modules/.bin/azurite-blob"
        assert azurite.exists(), "Azurite is installed by make setup (npm ci)"
        command = [str(azurite), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
                   "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"]  # fmt: skip
        server = serve(command, port, tmp_path)
        from azure.storage.blob import BlobServiceClient

        connection = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
                      f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")  # fmt: skip
        BlobServiceClient.from_connection_string(connection).create_container(BUCKET)
        # credentials from the environment only, as in the workflow (dvc-azure reads az's variables)
        setup = ({"AZURE_STORAGE_CONNECTION_STRING": connection}, {})
    yield cloud, *setup
    stop(server)


@pytest.fixture(scope="module")
def trained(trained_project):
    """The session's trained tiny project (conftest.py): the outputs every cloud test starts from.
    Only read here; these tests run before those that change it."""
    return trained_project


def files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for folder in OUTPUTS
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def git(project: Path, *args: str) -> str:
    result = run(["git", *args], cwd=project, env=project_env(project))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def cloud_project(tmp_path: Path, trained: Path, cloud: str, local_remote: dict, gate: float = 0.01) -> Path:
    """A baked project for the cloud, its tiny config committed as a `[cml]` commit and pushed to
    a local bare `origin`, holding the trained outputs less evaluate's, and pointed at the emulator."""
    tmp_path.mkdir()
    assert bake(tmp_path, cloud=cloud).returncode == 0
    project = tmp_path / "issue-triage"
    edit_config(project, TINY | {"evaluate.target_precision": 0.75, "evaluate.gates.macro.f1": gate})
    git(project, "commit", "--quiet", "--all", "--message", "Tiny pipeline [cml]")
    git(tmp_path, "clone", "--quiet", "--bare", str(project), str(tmp_path / "origin.git"))
    git(project, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(project, "fetch", "--quiet", "origin")
    for folder in OUTPUTS:
        shutil.copytree(trained / folder, project / folder)
    shutil.copy(trained / "dvc.lock", project / "dvc.lock")
    shutil.copytree(trained / ".dvc/cache", project / ".dvc/cache")
    for output in EVALUATE_OUTPUTS:
        path = project / output
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    point_at_emulator(project, local_remote)
    return project


def point_at_emulator(project: Path, local_remote: dict) -> None:
    for key, value in local_remote.items():  # .dvc/config.local: never committed
        result = dvc(project, "remote", "modify", "--local", "storage", key, value)
        assert result.returncode == 0, result.stderr


def train_sh(project: Path, tmp_path: Path, remote_env: dict, github_url: str, publish: str = "true"
             ) -> subprocess.CompletedProcess:  # fmt: skip
    stubs = tmp_path / "stubs"
    stub_cml(stubs)
    env = project_env(project) | remote_env
    env |= {
        "PATH": f"{stubs}{os.pathsep}{env['PATH']}",
        "CML_ALLOW_CPU": "1",
        "CML_REPORT_DIR": str(tmp_path / "report"),
        "CML_RESULTS": "commit",
        "CML_PUBLISH_PLOTS": publish,
        "DEFAULT_BRANCH": "main",
        "REPO_TOKEN": "t0ken",
        "GITHUB_API_URL": github_url,
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_REF_NAME": "main",
        "GITHUB_SHA": git(project, "rev-parse", "HEAD"),
    }
    (tmp_path / "report").mkdir()
    try:
        return run(["scripts/cml/train.sh"], cwd=project, env=env, timeout=600)
    except subprocess.TimeoutExpired as stuck:  # say where it stopped, without gcsfs's warning on every request
        noise = "Could not determine bucket type"
        stdout, stderr = (
            "\n".join(line for line in (part or b"").decode(errors="replace").splitlines() if noise not in line)
            for part in (stuck.output, stuck.stderr)
        )
        pytest.fail(f"train.sh ran over 600 s; its stdout ends:\n{stdout[-3000:]}\nits stderr ends:\n{stderr[-3000:]}")


@pytest.mark.parametrize("storage", ["gcp", "azure", "aws"], indirect=True)
def test_train_script_end_to_end(storage, trained, tmp_path):
    cloud, remote_env, local_remote = storage
    gate = 0.999 if cloud == "azure" else 0.01  # azure's run: a model under its gate, not promoted
    project = cloud_project(tmp_path / "work", trained, cloud, local_remote, gate)
    trained_sha = git(project, "rev-parse", "HEAD")
    github = FakeGitHub({})  # no pull request for the branch: the report goes to the commit
    publish = "false" if cloud == "gcp" else "true"  # gcp's run: a private repository's plots stay off CML's host
    try:
        result = train_sh(project, tmp_path, remote_env, github.url, publish)
    finally:
        github.close()
    assert result.returncode == (2 if gate > 0.5 else 0), result.stdout[-4000:] + result.stderr[-4000:]
    assert "Running stage 'evaluate'" in result.stdout + result.stderr

    # the report: this run's metrics table, the diffs against the default branch, plots per label
    report = (tmp_path / "report/report.md").read_text()
    assert "| bug | classifier |" in report and "| documentation | baseline |" in report
    assert "## Compared with `origin/main`" in report
    assert "<summary>Metrics</summary>" in report  # a first run: every metric is new
    assert ("### bug" in report) == (publish == "true")
    for plot in ("bug-precision_recall.svg", "bug-loss.svg"):
        assert (tmp_path / "report/plots" / plot).is_file()
        assert (f"({tmp_path / 'report/plots' / plot})" in report) == (publish == "true")
    assert ("this run's artifact `cml-report`" in report) == (publish == "false")

    # one `cml comment`, on the trained commit, with the watermark that later runs update
    stubs = tmp_path / "stubs"
    (call,) = cml_calls(stubs)
    assert call[:2] == ["comment", "update"]
    assert f"--target=commit/{trained_sha}" in call and "--watermark-title=cml training report" in call
    assert f"--publish={publish}" in call
    assert (stubs / "report.md").read_text() == report

    # dvc.lock and the small outputs committed back to the branch, marked [skip ci]
    log = git(tmp_path / "work/origin.git", "log", "--format=%s", "-2", "main").splitlines()
    assert log[0].endswith("[skip ci]") and log[1] == "Tiny pipeline [cml]"
    changed = git(tmp_path / "work/origin.git", "show", "--name-only", "--format=", "main").splitlines()
    assert "dvc.lock" in changed and "reports/metrics.json" in changed
    assert not any(path.startswith(("models/", "data/")) for path in changed if not path.endswith(".gitignore"))

    # the model passed its gate and was promoted: the report says so, deploy/ records it in git;
    # or it missed it: the run failed after publishing a report that says why
    assert "## Promotion" in report and f"| macro average f1 | {gate:g} |" in report
    if gate > 0.5:
        assert "| MISSED |" in report and "**Not promoted**: gate missed: macro average f1" in report
        assert not any(path.startswith("deploy/") for path in changed)
    else:
        assert "promoted version" in report and {"deploy/active.dvc", "deploy/versions.json"} <= set(changed)

    # a fresh clone and `dvc pull` restore every output, byte for byte
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "work/origin.git"), str(fresh))
    point_at_emulator(fresh, local_remote)
    pulled = run([sys.executable, "-m", "dvc", "pull"], cwd=fresh, env=project_env(fresh) | remote_env)
    assert pulled.returncode == 0, pulled.stderr
    expected = files(project)
    assert "models/encoder" in "\n".join(expected) and "reports/metrics.json" in expected
    assert files(fresh) == expected
    if cloud == "aws":  # the label workflow's job, once: the emulator is the quickest
        label_with_the_promoted_model(tmp_path, local_remote, remote_env)


def label_with_the_promoted_model(tmp_path: Path, local_remote: dict, remote_env: dict) -> None:
    """scripts/label.sh in a fresh clone: it pulls the promoted model alone and labels issues on
    the generated project's stand-in GitHub."""
    clone = tmp_path / "label"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "work/origin.git"), str(clone))
    point_at_emulator(clone, local_remote)
    spec = importlib.util.spec_from_file_location("fake_github", clone / "tests/fake_github.py")
    fake_github = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake_github)
    with fake_github.FakeGitHub(fake_github.synthetic_issues(3, seed=1)) as server:
        numbers = [server.add_issue("Crash when saving a file", body="Traceback: error in save") for _ in range(2)]
        edit_config(clone, {"import.github.api_url": server.url, "import.github.repo": server.repo,
                            "label.default_label": "needs-triage"})  # fmt: skip
        env = project_env(clone) | remote_env | {"GITHUB_TOKEN": fake_github.TOKEN, "LABEL_DRY_RUN": "false"}
        result = run(["scripts/label.sh"], cwd=clone, env=env | {"LABEL_ISSUES": f"{numbers[0]}-{numbers[1]}"})
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert [path for _, path, _ in server.writes] == [f"/repos/{server.repo}/issues/{n}/labels" for n in numbers]
        assert all(server.issues[n]["labels"] for n in numbers)
    pulled = [path for path in (clone / "models").rglob("*") if path.is_file() and path.name != ".gitignore"]
    assert (clone / "deploy/active/model.json").is_file() and pulled == []  # the promoted model alone
    plan = json.loads((clone / "label-plan.json").read_text())
    assert plan["applied"] is True and [d["number"] for d in plan["issues"]] == numbers


@pytest.mark.parametrize("storage", ["aws"], indirect=True)
def test_outputs_are_pushed_when_the_pipeline_fails(storage, trained, tmp_path):
    cloud, remote_env, local_remote = storage
    project = cloud_project(tmp_path / "work", trained, cloud, local_remote)
    edit_config(project, {"evaluate.threshold_policy": "best"})  # evaluate fails; the stages before it stand
    result = train_sh(project, tmp_path, remote_env, "http://127.0.0.1:9")  # never reached
    assert result.returncode != 0
    assert "threshold_policy" in result.stderr
    assert cml_calls(tmp_path / "stubs") == []  # nothing published
    status = run([sys.executable, "-m", "dvc", "status", "--cloud", "train", "finetune_lm"], cwd=project,
                 env=project_env(project) | remote_env)  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert "Cache and remote 'storage' are in sync" in status.stdout, status.stdout


# --- checkpoints through the remote: a reclaimed spot machine's run resumes on the next one -----

REMOTE_FS = """
import json, sys
from dvc.repo import Repo
remote = Repo().cloud.get_remote()
fs, root = remote.fs, remote.fs.join(remote.path, "checkpoints")
"""
LIST_CHECKPOINTS = REMOTE_FS + "print(json.dumps(sorted(fs.relpath(p, root) for p in fs.find(root))))"


def remote_checkpoints(project: Path, remote_env: dict) -> list[str]:
    """Every file under <remote>/checkpoints/, as the storage lists it."""
    result = run([sys.executable, "-c", LIST_CHECKPOINTS], cwd=project, env=project_env(project) | remote_env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def local_checkpoints(project: Path) -> dict[str, bytes]:
    folder = project / ".checkpoints"
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def checkpoints(project: Path, remote_env: dict, *args: str, sha: str = "c0ffee") -> subprocess.CompletedProcess:
    env = project_env(project) | remote_env | {"GITHUB_SHA": sha}
    return run([sys.executable, "-m", "issue_triage", "checkpoints", *args], cwd=project, env=env)


@pytest.mark.parametrize("storage", ["gcp", "azure", "aws"], indirect=True)
def test_checkpoints_push_pull_and_clear(storage, tmp_path):
    """The same code for every storage: what is pushed comes back byte for byte, temporary files
    stay behind, an unchanged file is not sent again, a damaged upload is never resumed from, and
    clear leaves nothing."""
    cloud, remote_env, local_remote = storage
    assert bake(tmp_path, cloud=cloud).returncode == 0
    project = tmp_path / "issue-triage"
    point_at_emulator(project, local_remote)
    folder = project / ".checkpoints/train/bug/fit"
    folder.mkdir(parents=True)
    (folder / "checkpoint.npz").write_bytes(os.urandom(300_000))
    (folder / "best.npz").write_bytes(b"best weights")
    (folder / ".checkpoint.tmp.npz").write_bytes(b"half written")
    (project / ".checkpoints/finetune_lm").mkdir()
    (project / ".checkpoints/finetune_lm/checkpoint.npz").write_bytes(b"encoder state")

    pushed = checkpoints(project, remote_env, "push")
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    assert "checkpoints: pushed 3 files (0.3 MB uploaded)" in pushed.stdout
    listed = remote_checkpoints(project, remote_env)
    assert "c0ffee/manifest.json" in listed and len(listed) == 4  # the manifest and 3 objects
    assert checkpoints(project, remote_env, "push").stdout == ""  # nothing changed, nothing sent
    (folder / "best.npz").write_bytes(b"better weights")
    assert "pushed 3 files (0.0 MB uploaded)" in checkpoints(project, remote_env, "push").stdout
    assert len(remote_checkpoints(project, remote_env)) == 4  # the replaced file's object is deleted

    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "--quiet", str(project), str(fresh))
    point_at_emulator(fresh, local_remote)
    pulled = checkpoints(fresh, remote_env, "pull")
    assert pulled.returncode == 0, pulled.stderr[-3000:]
    assert "checkpoints: pulled 3 files" in pulled.stdout
    expected = {path: data for path, data in local_checkpoints(project).items() if "/." not in f"/{path}"}
    assert local_checkpoints(fresh) == expected and len(expected) == 3
    assert "none for run another" in checkpoints(fresh, remote_env, "pull", sha="another").stdout  # runs are apart

    # an object that does not match the manifest (a storage fault): no checkpoint is taken from it
    damage = REMOTE_FS + "fs.pipe_file(fs.join(root, 'c0ffee/objects', sys.argv[1]), b'garbage')"
    digest = hashlib.sha256(b"better weights").hexdigest()
    env = project_env(project) | remote_env
    assert run([sys.executable, "-c", damage, digest], cwd=project, env=env).returncode == 0
    shutil.rmtree(fresh / ".checkpoints")
    pulled = checkpoints(fresh, remote_env, "pull")
    assert pulled.returncode == 0
    assert "checkpoints of run c0ffee on the remote are damaged (train/bug/fit/best.npz does not match" in pulled.stderr
    assert local_checkpoints(fresh) == {}

    cleared = checkpoints(project, remote_env, "clear")
    assert cleared.returncode == 0 and "checkpoints: removed" in cleared.stdout
    assert remote_checkpoints(project, remote_env) == []


def session_processes(session: int, command: bytes) -> list[int]:
    """The processes of a session whose command line holds `command` (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session and command in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return found


@pytest.mark.parametrize("storage", ["gcp"], indirect=True)
def test_a_reclaimed_machine_resumes_from_the_remote(storage, trained, tmp_path):
    """A spot machine vanishes mid-training (SIGKILL of every process: no exit trap runs) after the
    periodic push; the workflow's re-run of the commit, on a new machine (a fresh clone), pulls the
    earlier outputs and the checkpoint, resumes there, retrains no other label, and leaves no
    checkpoint on the remote."""
    cloud, remote_env, local_remote = storage
    project = cloud_project(tmp_path / "work", trained, cloud, local_remote)
    # an earlier run's outputs on the remote and its dvc.lock committed (publish.sh), so that only
    # the changed label trains here
    env = project_env(project) | remote_env
    pushed = run([sys.executable, "-m", "dvc", "push", "--run-cache"], cwd=project, env=env)
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    git(project, "add", "dvc.lock")
    # every batch checkpointed; the test holds training mid-run (SIGSTOP) until a push has gone out,
    # so that the first run cannot finish first and the resumed run stays short
    edit_config(project, {"labels.bug.epochs": 500, "labels.bug.patience": 500,
                          "labels.bug.checkpoint_every_steps": 1})  # fmt: skip
    git(project, "commit", "--quiet", "--message", "Longer training for bug [cml]", "config.yaml", "dvc.lock")
    git(project, "push", "--quiet", "origin", "HEAD:main")

    stubs = tmp_path / "stubs"
    stub_cml(stubs)
    env = project_env(project) | remote_env | {
        "PATH": f"{stubs}{os.pathsep}{project_env(project)['PATH']}", "CML_ALLOW_CPU": "1",
        "CHECKPOINT_PUSH_SECONDS": "1", "GITHUB_SHA": git(project, "rev-parse", "HEAD"),
    }  # fmt: skip
    job = subprocess.Popen(["scripts/cml/train.sh"], cwd=project, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    seen, pushed = [], threading.Event()

    def read() -> None:
        for line in job.stdout:
            seen.append(line)
            if line.startswith("checkpoints: pushed"):
                pushed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    checkpoint = project / ".checkpoints/train/bug/fit/checkpoint.npz"
    deadline = time.monotonic() + 300
    while not checkpoint.is_file() and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    held = session_processes(job.pid, b".stages.train")
    for pid in held:
        os.kill(pid, signal.SIGSTOP)  # training holds mid-run; the pusher, a process of its own, goes on
    pushed.wait(timeout=120)
    os.killpg(job.pid, signal.SIGKILL)  # the machine is gone
    job.wait(timeout=60)
    reader.join(timeout=10)
    output = "".join(seen)
    assert held, f"no training process was found to hold; the job printed:\n{output[-4000:]}"
    assert "Running stage 'train'" in output and "checkpoints: pushed" in output, output[-4000:]
    assert "Running stage 'evaluate'" not in output
    listed = remote_checkpoints(project, remote_env)
    assert f"{env['GITHUB_SHA']}/manifest.json" in listed, listed

    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "work/origin.git"), str(fresh))
    point_at_emulator(fresh, local_remote)
    github = FakeGitHub({})
    try:
        result = train_sh(fresh, tmp_path, remote_env, github.url)
    finally:
        github.close()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "checkpoints: pulled" in output
    assert "resuming from .checkpoints/train/bug/fit/checkpoint.npz: epoch" in output
    assert "Stage 'finetune_lm' didn't change, skipping" in output  # its output pulled, not made again
    # the other labels' models come from the remote, unchanged: only bug trains (resumed above)
    assert any(line.startswith("train: 1 trained, 3 unchanged (kept)") for line in output.splitlines()), output[-4000:]
    assert (fresh / "models/classifiers/bug/scores.jsonl").is_file()
    assert local_checkpoints(fresh) == {}
    assert remote_checkpoints(fresh, remote_env) == []
