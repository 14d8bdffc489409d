#!/usr/bin/env bash
# The job of .github/workflows/label.yaml, which runs anywhere: pull the promoted model's files
# (only those) from the DVC remote, then label: the issues LABEL_ISSUES names, or a sweep of the
# open issues updated since the last one when it is empty.
# Env: GITHUB_TOKEN (issues: write), LABEL_ISSUES (e.g. 120-180,201), LABEL_DRY_RUN (true: print
# the plan, write nothing), LABEL_PLAN (the plan as JSON, default label-plan.json), the remote's
# credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pull_promoted.sh

if [[ -n "${LABEL_ISSUES:-}" ]]; then
  which=(--issues "$LABEL_ISSUES")
else
  which=(--sweep)
fi
if [[ "${LABEL_DRY_RUN:-false}" == true ]]; then
  mode=--dry-run
else
  mode=--apply
fi
python3 -m {{ cookiecutter.package_name }} label "${which[@]}" "$mode" --plan "${LABEL_PLAN:-label-plan.json}"
