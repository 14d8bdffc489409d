"""Stand-ins for what the cml workflow's scripts talk to: the `cml` command and GitHub's API."""

from __future__ import annotations

import json
import re
import stat
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


def stub_cml(folder: Path) -> Path:
    """A `cml` that records each call's arguments (one JSON list a line) and keeps a copy of the
    markdown report it is given."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "cml"
    script.write_text(f"""#!{sys.executable}
import json, shutil, sys
from pathlib import Path
here = Path(__file__).parent
with open(here / "calls.jsonl", "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
reports = [a for a in sys.argv[1:] if a.endswith(".md")]
if reports:
    shutil.copy(reports[-1], here / "report.md")
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def cml_calls(folder: Path) -> list[list[str]]:
    path = folder / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class StandIn:
    """A local HTTP server on a thread of its own, answering with `handler`'s class."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = HTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeGitHub(StandIn):
    """GitHub's REST API as far as scripts/cml/target.py asks it: the open pull requests of a branch."""

    def __init__(self, pulls: dict[str, list[dict]]):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                fake.requests.append((self.path, self.headers.get("Authorization")))
                head = re.search(r"head=[^:&]+%3A([^&]+)", self.path)
                body = json.dumps(pulls.get(head[1] if head else "", [])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.requests: list[tuple[str, str]] = []
        super().__init__(Handler)
