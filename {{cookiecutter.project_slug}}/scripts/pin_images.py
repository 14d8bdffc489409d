#!/usr/bin/env python3
"""Pin the workflows' container images by digest: `image: name:tag` becomes
`image: name@sha256:<digest>  # tag`, the digest the registry serves for that tag now, so that a
re-pushed tag cannot change what the training job runs. The template is built without network
access, so a new project runs this once and commits the change; `--update` moves pinned images
to the current digest of the tag in their comment (change the tag there first to upgrade).
Nothing is written unless every image resolved."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

DOCKER_HUB = "https://registry-1.docker.io"
ACCEPT = ", ".join(  # a multi-platform index first: its digest covers every platform
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
UNPINNED = re.compile(r"^(?P<lead>\s*image:\s*)(?P<ref>[^\s@#$]+)\s*$")
PINNED = re.compile(r"^(?P<lead>\s*image:\s*)(?P<name>[^\s@#$]+)@sha256:[0-9a-f]{64}\s+#\s*(?P<tag>\S+)\s*$")


class PinError(Exception):
    pass


def split(reference: str) -> tuple[str, str]:
    """`name:tag` -> (name, tag); a registry's port is not a tag."""
    name, colon, tag = reference.rpartition(":")
    return (name, tag) if colon and "/" not in tag else (reference, "latest")


def locate(name: str, registry: str) -> tuple[str, str]:
    """(registry URL, repository path) of an image name; Docker Hub's official images are library/."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return f"https://{first}", rest
    return registry.rstrip("/"), name if slash else f"library/{name}"


def _get(url: str, token: str | None = None):
    headers = {"Accept": ACCEPT} | ({"Authorization": f"Bearer {token}"} if token else {})
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)


def _token(challenge: str) -> str:
    """A pull token from the registry's `WWW-Authenticate: Bearer realm=...,service=...,scope=...`."""
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    if not challenge.lower().startswith("bearer") or "realm" not in fields:
        raise PinError(f"the registry asked for an authentication this script does not know: {challenge!r}")
    query = urllib.parse.urlencode({key: value for key, value in fields.items() if key in ("service", "scope")})
    with _get(f"{fields['realm']}?{query}") as response:
        answer = json.loads(response.read())
    return answer.get("token") or answer["access_token"]


def digest(name: str, tag: str, registry: str) -> str:
    """The digest of the manifest the registry serves for name:tag, checked against its body."""
    base, path = locate(name, registry)
    url = f"{base}/v2/{path}/manifests/{tag}"
    try:
        try:
            response = _get(url)
        except urllib.error.HTTPError as error:
            if error.code != 401:
                raise
            response = _get(url, _token(error.headers.get("WWW-Authenticate", "")))
        with response:
            body, served = response.read(), response.headers.get("Docker-Content-Digest")
    except urllib.error.HTTPError as error:
        raise PinError(f"{name}:{tag}: {url} answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise PinError(f"{name}:{tag}: cannot reach {base} ({getattr(error, 'reason', error)})") from None
    computed = "sha256:" + hashlib.sha256(body).hexdigest()
    if served and served != computed:
        raise PinError(f"{name}:{tag}: the registry's digest {served} is not its manifest's ({computed})")
    return computed


def pin(workflows: Path, registry: str, update: bool) -> list[str]:
    """Rewrite the workflows' image lines; a line per image pinned."""
    edits: dict[Path, list[str]] = {}
    resolved: dict[tuple[str, str], str] = {}
    for path in sorted([*workflows.glob("*.yaml"), *workflows.glob("*.yml")]):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        changed = False
        for i, line in enumerate(lines):
            if match := UNPINNED.match(line.rstrip("\n")):
                name, tag = split(match["ref"])
            elif update and (match := PINNED.match(line.rstrip("\n"))):
                name, tag = match["name"], match["tag"]
            else:
                continue
            if (name, tag) not in resolved:
                resolved[name, tag] = digest(name, tag, registry)
            lines[i] = f"{match['lead']}{name}@{resolved[name, tag]}  # {tag}\n"
            changed = changed or lines[i] != line
        if changed:
            edits[path] = lines
    for path, lines in edits.items():  # only once every image resolved: no half-pinned workflows
        path.write_text("".join(lines), encoding="utf-8")
    return [f"{name}:{tag} -> {value}" for (name, tag), value in resolved.items()]


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--update", action="store_true", help="re-resolve pinned images from their tag comments")
    cli.add_argument("--registry", default=DOCKER_HUB,
                     help=f"the registry of images named without a host (default {DOCKER_HUB}; a mirror)")  # fmt: skip
    cli.add_argument("--workflows", type=Path, default=Path(".github/workflows"), help="the workflows' folder")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.workflows.is_dir():
        print(f"error: --workflows {args.workflows}: no such folder", file=sys.stderr)
        return 2
    try:
        pinned = pin(args.workflows, args.registry, args.update)
    except PinError as error:
        print(f"error: {error}; nothing was changed", file=sys.stderr)
        return 1
    print("\n".join(pinned) if pinned else "every image is pinned already (--update re-resolves them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
