#!/usr/bin/env bash
# The last job of .github/workflows/sweep.yaml, which runs anywhere: fetch the sweep's experiments
# from the Git remote (`dvc exp pull origin <name>`: their params and metrics, no outputs) and post
# one comment, on the branch's pull request or else on the commit, that compares them with the
# commit they started from: `dvc exp show --md` of these experiments and that baseline, with every
# model's macro averages and the params and metrics that differ. A re-run of the sweep updates the
# comment. An experiment that is not on the remote (its job failed) is listed as missing.
# Env: SWEEP_MATRIX (sweep_matrix.py's `matrix`); SWEEP_ID (default GITHUB_RUN_ID): which
# comment to update; REPO_TOKEN (git's own credentials without it), GITHUB_REPOSITORY,
# GITHUB_REF_NAME, GITHUB_SHA, GITHUB_API_URL (for scripts/cml/target.py); GITHUB_SERVER_URL,
# GITHUB_RUN_ID (a link to the run); CML_REPORT_DIR (default: a new temporary folder): where
# comparison.md is written.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${SWEEP_MATRIX:?}"
source scripts/cml/git_auth.sh
sweep="${SWEEP_ID:-${GITHUB_RUN_ID:-local}}"

found=()    # "name<TAB>-S values" of each experiment pulled
missing=()  # and of each one that is not on the remote
while IFS=$'\t' read -r name title; do
  if dvc exp pull --force --no-cache origin "$name"; then
    found+=("$name"$'\t'"$title")
  else
    echo "warning: experiment $name is not on the remote (its job failed?)" >&2
    missing+=("$name"$'\t'"$title")
  fi
done < <(python3 -c '
import json, os
for experiment in json.loads(os.environ["SWEEP_MATRIX"])["experiment"]:
    print(experiment["name"], experiment["title"], sep="\t")')

# The table: the baseline (the first row), then this sweep's experiments only (a repository can
# hold others of the same commit); the macro averages always, other columns where they differ;
# per-label and micro metrics and the deps' hashes left out (`dvc exp show` in a clone shows them).
table() {
  local all row rows=()
  all="$(dvc exp show --md --no-pager --hide-workspace --hide-queued --only-changed \
    --keep '(.*:)?(classifier|baseline|blend)\.macro\.' --drop '.*\.(labels|micro)\.|.*/')"
  head -n 3 <<<"$all"  # the header, its rule, the baseline
  for entry in "${found[@]}"; do  # in the sweep's order, the tree drawn again
    row="$(grep -F "[${entry%%$'\t'*}]" <<<"$all" | head -n 1)" || true
    if [[ -n $row ]]; then
      rows+=("${row/└──/├──}")
    fi
  done
  if [[ -n "${rows[*]}" ]]; then
    rows[-1]="${rows[-1]/├──/└──}"
    printf '%s\n' "${rows[@]}"
  fi
}

report_dir="${CML_REPORT_DIR:-$(mktemp -d)}"
mkdir -p "$report_dir"
{
  echo "# Sweep $sweep"
  echo
  echo "Experiments from commit \`$(git rev-parse --short HEAD)\`"
  if [[ -n "${GITHUB_RUN_ID:-}" ]]; then
    echo "· [workflow run](${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID})"
  fi
  echo
  table
  echo
  echo "| experiment | \`dvc exp run -S\` values | |"
  echo "|---|---|---|"
  for entry in "${found[@]}"; do
    echo "| ${entry%%$'\t'*} | \`${entry#*$'\t'}\` | done |"
  done
  for entry in "${missing[@]}"; do
    echo "| ${entry%%$'\t'*} | \`${entry#*$'\t'}\` | **missing**: not on the remote (see its job) |"
  done
  echo
  echo "Locally: \`dvc exp pull origin <experiment>\` (add \`--no-cache\` for its metrics alone), then"
  echo "\`dvc exp show\`, \`dvc exp apply <experiment>\`."
} >"$report_dir/comparison.md"
echo "Comparison: $report_dir/comparison.md"
cat "$report_dir/comparison.md"

target="$(python3 scripts/cml/target.py)"
cml comment update --target="$target" --watermark-title="cml sweep $sweep" --publish=false "$report_dir/comparison.md"
