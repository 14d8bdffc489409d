#!/usr/bin/env bash
# Write the training report into the folder $1: report.md (this run's metrics, their diff and
# the params diff against the default branch, per-label plots) and the plots it shows.
# Env: DEFAULT_BRANCH (default: main), GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID.
set -euo pipefail
out="$(cd "$1" && pwd)"
cd "$(dirname "$0")/../.."

# the default branch as fetched from origin (CI), else the local branch
base="origin/${DEFAULT_BRANCH:-main}"
git rev-parse --verify --quiet "$base" >/dev/null || base="${DEFAULT_BRANCH:-main}"

diff_md() {  # `dvc metrics|params diff` against the base as a table, or why there is none
  local table errors
  errors="$(mktemp)"
  if ! git rev-parse --verify --quiet "$base" >/dev/null; then
    echo "No \`$base\` to compare with."
  elif ! table="$(dvc "$1" diff "$base" --md 2>"$errors")"; then
    printf 'dvc %s diff failed:\n\n```\n%s\n```\n' "$1" "$(cat "$errors")"
  elif [[ "$(grep -c '^|' <<<"$table")" -le 2 ]]; then  # a header and no row
    echo "No change from \`$base\`."
  else
    printf '<details><summary>%s</summary>\n\n%s\n\n</details>\n' "$2" "$table"
  fi
  rm -f "$errors"
}

report="$(python3 -c 'import yaml; print(yaml.safe_load(open("config.yaml"))["paths"]["report"])')"
{
  echo "# Training report"
  echo
  echo "Commit \`$(git rev-parse --short HEAD)\`"
  if [[ -n "${GITHUB_RUN_ID:-}" ]]; then
    echo "· [workflow run](${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID})"
  fi
  echo
  sed 's/^# /## /' "$report"  # the pipeline's own report: the metrics tables
  echo
  echo "## Compared with \`$base\`"
  echo
  diff_md metrics Metrics
  echo
  diff_md params Parameters
  echo
  echo "## Plots per label"
  echo
  python3 scripts/cml/plots.py "$out/plots"
} >"$out/report.md"
echo "Report: $out/report.md"
