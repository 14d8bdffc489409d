#!/usr/bin/env bash
# The whole pipeline on the tests' tiny settings (tests/tiny.yaml: few issues, a tiny encoder, an
# epoch or two), in an experiment so that config.yaml and the committed outputs stay as they are.
# CI runs it on every commit.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t overrides < <(python -c '
import json, yaml
for key, value in yaml.safe_load(open("tests/tiny.yaml")).items():
    print("-S"); print(f"config.yaml:{key}={json.dumps(value)}")')
dvc exp run --temp "${overrides[@]}"
