#!/usr/bin/env bash
# The Dockerfile's entry point, which runs anywhere: pull the promoted model's files (only those)
# from the DVC remote, then serve them (docs/serving.md). Arguments go to `serve`.
# Env: SERVE_TOKENS or SERVE_TOKENS_FILE (the bearer tokens), PORT (default 8000), SERVE_HOST
# (default 0.0.0.0), the remote's credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pull_promoted.sh
exec python3 -m {{ cookiecutter.package_name }} serve --host "${SERVE_HOST:-0.0.0.0}" --port "${PORT:-8000}" "$@"
