"""`serve`: the real server (uvicorn) in its own process, over HTTP. Served scores are evaluate's,
bad requests get a 4xx naming the field and leave the server serving, and SIGHUP swaps in a newly
promoted model or keeps the old one when the new one does not load. Slow, but for the start-up
checks: the pipeline trained on tiny settings."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from conftest import SRC, copy_project, package
from {{ cookiecutter.package_name }}.core import files
from {{ cookiecutter.package_name }}.core.config import load_config
from {{ cookiecutter.package_name }}.promote import raw_test_issues

PACKAGE = "{{ cookiecutter.package_name }}"
TOKEN = "test-token-0123456789abcdef"
LIMITS = {"serve.max_batch": 8, "serve.max_request_bytes": 20000}


class Server:
    """`serve` on a free port, until stopped; its stderr in a file."""

    def __init__(self, folder, command=None, env=None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = folder / "serve.log"
        env = {**os.environ, "PYTHONPATH": str(SRC), "SERVE_TOKENS": TOKEN, "PORT": str(self.port), **(env or {})}
        command = command or [sys.executable, "-m", PACKAGE, "serve", "--port", str(self.port)]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if self.call("GET", "/readyz", token=None)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready in {timeout} s: {self.log.read_text()}")

    def call(self, method, path, body=None, token=TOKEN, headers=None):
        """(status, headers, body) of one request; `body` a dict (sent as JSON) or bytes."""
        data = json.dumps(body).encode() if isinstance(body, dict | list) else body
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        for key, value in {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}.items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def json(self, method, path, body=None, **kwargs):
        status, _, content = self.call(method, path, body, **kwargs)
        return status, json.loads(content)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(promoted, tmp_path_factory):
    folder = copy_project(promoted, tmp_path_factory.mktemp("serve") / "project", **LIMITS)
    server = Server(folder).wait_ready()
    yield server
    assert server.stop() == 0, server.log.read_text()


def test_no_token_no_start(tmp_path, config_data, write_config):
    """Start-up checks, before any model loads (these need none)."""
    write_config(config_data)

    def serve(env, *args):
        result = package(PACKAGE, "serve", *args, cwd=tmp_path, env={"SERVE_TOKENS": "", **env}, timeout=60)
        return result.returncode, result.stderr.strip().splitlines()[-1]

    code, error = serve({})
    assert code == 2 and error.startswith("error: SERVE_TOKENS: expected the bearer tokens clients send")
    assert "--insecure-no-auth" in error
    assert serve({"SERVE_TOKENS": "short"}) == (
        2, "error: SERVE_TOKENS: expected tokens of at least 16 characters (make one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`); found 1 shorter",
    )  # fmt: skip
    assert serve({"SERVE_TOKENS_FILE": str(tmp_path / "missing")}) == (
        2, f"error: SERVE_TOKENS_FILE: expected a file of tokens, one a line; found no file {tmp_path / 'missing'}",
    )  # fmt: skip
    code, error = serve({}, "--insecure-no-auth")
    assert (
        code == 2 and error == "error: models/thresholds.json not found; expected trained models: run `dvc repro` first"
    )


@pytest.mark.slow
def test_served_scores_are_evaluates_for_raw_issues(server, promoted, monkeypatch):
    """Raw title and body in, text normalised by the server as preprocess did: evaluate's scores."""
    monkeypatch.chdir(promoted)
    issues = raw_test_issues(load_config("config.yaml"))
    expected = {p["number"]: p for p in files.read_jsonl(promoted / "reports/test_predictions.jsonl")}
    thresholds = files.read_json(promoted / "deploy/active/thresholds.json")["labels"]
    version = files.read_json(promoted / "deploy/active/model.json")["version"]
    for start in range(0, len(issues), 8):
        batch = [{"number": i["number"], "title": i["title"], "body": i["body"]} for i in issues[start : start + 8]]
        status, answer = server.json("POST", "/v1/predict", {"issues": batch})
        assert status == 200, answer
        assert answer["model"] == version and answer["precision"] is None
        for result in answer["issues"]:
            want = expected[result["number"]]
            for slug, info in thresholds.items():
                assert result["scores"][info["name"]] == pytest.approx(want["scores"][slug], abs=1e-6)
            assert sorted(result["labels"]) == sorted(thresholds[slug]["name"] for slug in want["predicted"])

    one = issues[0]
    status, single = server.json("POST", "/v1/predict", {"title": one["title"], "body": one["body"], "precision": 0.5})
    assert status == 200 and single["precision"] == 0.5 and single["issues"][0]["number"] is None
    at_half = {info["name"] for slug, info in thresholds.items()
               if expected[one["number"]]["scores"][slug] >= info["by_precision"]["0.50"]}  # fmt: skip
    assert set(single["issues"][0]["labels"]) == at_half


@pytest.mark.slow
def test_embeddings_as_json_and_as_little_endian_float32(server, promoted):
    issues = [{"title": "Crash on save", "body": "It crashes."}, {"title": "Add dark mode", "body": None}]
    status, answer = server.json("POST", "/v1/embed", {"issues": issues})
    assert status == 200
    vectors = np.array(answer["embeddings"], "float32")
    assert vectors.shape == (2, answer["dimension"]) and np.abs(vectors).sum() > 0
    status, headers, content = server.call("POST", "/v1/embed", {"issues": issues},
                                           headers={"Accept": "application/octet-stream"})  # fmt: skip
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert (headers["X-Embedding-Count"], headers["X-Embedding-Dimension"]) == ("2", str(answer["dimension"]))
    assert np.array_equal(np.frombuffer(content, "<f4").reshape(2, -1), vectors)
    status, one = server.json("POST", "/v1/embed", issues[0])
    assert status == 200 and np.array(one["embeddings"], "float32") == pytest.approx(vectors[:1], abs=1e-6)


@pytest.mark.slow
def test_model_health_and_metrics(server, promoted):
    card = files.read_json(promoted / "deploy/active/model.json")
    status, info = server.json("GET", "/v1/model")
    assert status == 200 and info["version"] == card["version"] and info["promoted"] is True
    assert info["promoted_at"] == card["promoted_at"] and info["text"] == card["text"]
    metrics = files.read_json(promoted / "deploy/active/metrics.json")
    assert info["test_metrics"] == metrics[info["model"]]
    thresholds = files.read_json(promoted / "deploy/active/thresholds.json")["labels"]
    assert {name: label["threshold"] for name, label in info["labels"].items()} == {
        label["name"]: label["threshold"] for label in thresholds.values()
    }
    assert "0.80" in info["precision_levels"]
    assert server.json("GET", "/healthz", token=None) == (200, {"status": "alive"})
    assert server.json("GET", "/readyz", token=None) == (200, {"status": "ready", "version": card["version"]})

    server.call("POST", "/v1/predict", {"issues": [{"title": "a"}, {"title": "b"}, {"title": "c"}]})
    status, headers, content = server.call("GET", "/metrics")
    text = content.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    for series in (
        'requests_total{endpoint="predict",status="200"}',
        'request_seconds_bucket{endpoint="predict",le="+Inf"}',
        'batch_size_bucket{endpoint="predict",le="4.0"}',
        'model_info{version="' + card["version"] + '"} 1.0',
    ):
        assert f"{PACKAGE}_{series}" in text


@pytest.mark.slow
def test_without_a_valid_token_401_and_no_hint(server):
    answers = [
        server.call("POST", "/v1/predict", {"title": "x"}, token=None),
        server.call("POST", "/v1/predict", {"title": "x"}, token="wrong-token-0123456789"),
        server.call("POST", "/v1/predict", {"title": "x"}, token=None, headers={"Authorization": f"Basic {TOKEN}"}),
        server.call("GET", "/v1/model", token=TOKEN[:-1]),
        server.call("GET", "/metrics", token=None),
        server.call("POST", "/v1/reload", token=None),
    ]
    for status, headers, content in answers:
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
        assert json.loads(content) == {"error": "unauthorized: expected the header Authorization: Bearer <token>"}


BAD = [
    (b'{"title": "x",', 400, "request body: expected JSON; found Expecting property name enclosed in double quotes "
                             "at line 1 column 15"),
    (b"", 400, "request body: expected JSON; found nothing"),
    (b'{"title": "caf\xe9"}', 400, "request body: expected UTF-8; found an invalid byte at position 14"),
    (b"[" * 15000, 400, "request body: expected an issue or a batch of issues; found JSON nested too deeply"),
    ([1, 2], 422, "request body: expected an object with title and body; found a list"),
    ({"body": "no title"}, 422, "title: expected a string; found no title"),
    ({"title": None}, 422, "title: expected a string; found null"),
    ({"title": "x", "body": 3}, 422, "body: expected a string; found a number (3)"),
    ({"title": "x", "number": "12"}, 422, 'number: expected an integer (the issue\'s number) or nothing; '
                                          'found a string ("12")'),
    ({"issues": []}, 422, "issues: expected 1 to 8 issues; found 0"),
    ({"issues": [{"title": "x"}] * 9}, 422, "issues: expected 1 to 8 issues; found 9"),
    ({"issues": {"title": "x"}}, 422, "issues: expected a list of issues; found an object"),
    ({"issues": [{"title": "x"}, "y"]}, 422, 'issues[1]: expected an object with title and body; found a string ("y")'),
    ({"issues": [{"title": "x"}], "title": "y"}, 422, "request body: expected one issue (title, body) or a batch "
                                                     "(issues); found both"),
    ({"title": "x", "precision": "high"}, 422, 'precision: expected a number, one of the stored levels; '
                                               'found a string ("high")'),
    ({"title": "x", "precision": 0.83}, 422, "precision: expected one of 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, "
                                             "0.85, 0.90, 0.95; found 0.83"),
    ({"title": "x", "body": "y" * 30000}, 413, f"request body: expected at most 20000 bytes; found "
                                               f"{len(json.dumps({'title': 'x', 'body': 'y' * 30000}))}"),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("body, status, message", BAD, ids=[message.split(";")[0] for *_, message in BAD])
def test_bad_requests_get_a_4xx_naming_the_field(server, body, status, message):
    assert server.json("POST", "/v1/predict", body) == (status, {"error": message})
    assert server.json("POST", "/v1/predict", {"title": "still serving"})[0] == 200


@pytest.mark.slow
def test_unknown_paths_and_methods(server):
    status, answer = server.json("GET", "/v2/predict")
    assert status == 404 and answer["error"].startswith("/v2/predict: no such endpoint; expected /v1/predict")
    assert server.json("GET", "/v1/predict") == (405, {"error": "/v1/predict: GET not allowed"})


@pytest.mark.slow
def test_sighup_serves_a_newly_promoted_model_and_keeps_it_when_the_next_fails(promoted, tmp_path):
    folder = copy_project(promoted, tmp_path / "project", **LIMITS)
    server = Server(folder).wait_ready()
    try:
        active = folder / "deploy/active"
        old = files.read_json(active / "model.json")["version"]
        # a newly promoted model, as promote leaves it: here the same files with every threshold at 0
        saved = files.read_json(active / "thresholds.json")
        for label in saved["labels"].values():
            label["threshold"] = 0.0
        files.write_json(active / "thresholds.json", saved)
        files.write_json(active / "model.json", {**files.read_json(active / "model.json"), "version": "new-version"})
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: server.json("GET", "/v1/model")[1]["version"] == "new-version", server)
        status, answer = server.json("POST", "/v1/predict", {"title": "anything"})
        assert answer["model"] == "new-version" and len(answer["issues"][0]["labels"]) == len(saved["labels"])
        assert f"serving version new-version (was {old})" in server.log.read_text()

        (active / "thresholds.json").write_text("{broken", encoding="utf-8")  # a model that cannot load
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "error: reload: the model did not load" in server.log.read_text(), server)
        assert "still serving version new-version" in server.log.read_text()
        status, answer = server.json("POST", "/v1/reload")
        assert status == 500 and answer["error"].startswith("reload: the model did not load: ")
        assert answer["error"].endswith("; still serving version new-version")
        assert server.json("POST", "/v1/predict", {"title": "anything"})[1]["model"] == "new-version"
        _, _, metrics = server.call("GET", "/metrics")
        assert PACKAGE + '_reloads_total{result="failed"} 2.0' in metrics.decode()
    finally:
        assert server.stop() == 0, server.log.read_text()


def wait_for(condition, server, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.2)


ROOT = SRC.parent


def image_files(repo):
    """What the Dockerfile's `COPY . .` takes: .dockerignore leaves out everything (`*`), then lets
    in the patterns marked `!`."""
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    assert lines[0] == "*" and lines[-1] == "**/__pycache__"
    found = set()
    for pattern in (line[1:].rstrip("/") for line in lines if line.startswith("!")):
        for path in repo.glob(pattern):
            found |= {p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()}
    return {path for path in found if "__pycache__" not in path.parts}


@pytest.mark.slow
def test_the_image_pulls_the_promoted_model_from_the_remote_and_serves_it(promoted, tmp_path):
    """The container's start (scripts/serve.sh) with only what the Dockerfile copies into the
    image, the model in a DVC remote (a folder here): no git history, no model files."""
    repo = tmp_path / "repo"  # the generated repository, its model promoted and pushed
    for path in image_files(ROOT):
        (repo / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, repo / path.relative_to(ROOT))
    shutil.copy(promoted / "config.yaml", repo / "config.yaml")
    shutil.copytree(promoted / "deploy", repo / "deploy")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    remote = [
        "dvc",
        "remote",
        "add",
        "--force",
        "--default",
        "storage",
        str(tmp_path / "remote"),
    ]  # .dvc/config is there
    for command in (["git", "init", "-q"], remote,
                    ["dvc", "add", "-q", "deploy/active"], ["dvc", "push", "-q"]):  # fmt: skip
        result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{command}: {result.stderr}"

    for line in (ROOT / "Dockerfile").read_text().splitlines():  # what it copies by name is there
        if line.startswith("COPY") and not line.endswith(". ."):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), line
    image = tmp_path / "image"
    for path in image_files(repo):
        (image / path.relative_to(repo)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, image / path.relative_to(repo))
    assert not (image / "deploy/active").exists() and (image / "deploy/active.dvc").is_file()
    assert not (image / ".git").exists() and not (image / "models").exists()

    server = Server(
        image, ["bash", "scripts/serve.sh"], {**env, "SERVE_HOST": "127.0.0.1", "PYTHONPATH": str(image / "src")}
    )
    try:
        server.wait_ready()
        version = files.read_json(promoted / "deploy/active/model.json")["version"]
        assert server.json("GET", "/v1/model")[1]["version"] == version
        assert server.json("POST", "/v1/predict", {"title": "Crash on save"})[0] == 200
    finally:
        assert server.stop() == 0, server.log.read_text()
