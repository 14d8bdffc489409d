#!/usr/bin/env bash
# The Dockerfile's entry point, which runs anywhere: pull the promoted model's files (only those)
# from the DVC remote, then serve them (docs/serving.md). Arguments go to `serve`.
# Env: SERVE_TOKENS or SERVE_TOKENS_FILE (the bearer tokens), PORT (default 8000), SERVE_HOST
# (default 0.0.0.0), the remote's credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/remote_credentials.sh

promoted="$(python3 -c 'import yaml; print(yaml.safe_load(open("config.yaml"))["paths"]["promoted"])')"
if [[ ! -f "$promoted/active.dvc" ]]; then
  echo "error: $promoted/active.dvc not found: no model is promoted yet; promote one (docs/labelling.md)," \
    "commit $promoted/, then build the image again" >&2
  exit 2
fi
if [[ ! -d .git ]]; then  # an image holds no git history: DVC works without it when told so
  dvc config --local core.no_scm true
fi
dvc pull --quiet "$promoted/active.dvc"
exec python3 -m {{ cookiecutter.package_name }} serve --host "${SERVE_HOST:-0.0.0.0}" --port "${PORT:-8000}" "$@"
