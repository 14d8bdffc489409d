#!/usr/bin/env bash
# Write the training report into the folder $1: report.md (this run's metrics, the promotion
# (promotion.md in $1, when train.sh wrote it), the live precision of the applied labels (when
# monitor ran), the metrics and params diffs against the default branch, per-label plots) and the
# plots it shows.
# Env: DEFAULT_BRANCH (default: main), GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID;
# CML_PUBLISH_PLOTS=false: the report links the run's artifact instead of showing the plots.
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

read -r report monitor < <(python3 -c 'import yaml; p = yaml.safe_load(open("config.yaml"))["paths"]; print(p["report"], p["monitor"])')
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
  if [[ -f "$out/promotion.md" ]]; then  # train.sh's: the gates, and whether the model went into service
    echo "## Promotion"
    echo
    cat "$out/promotion.md"
    echo
  fi
  if [[ -f "$monitor/report.md" ]]; then  # the live precision of the labels applied (monitor)
    cat "$monitor/report.md"
    echo
  fi
  echo "## Compared with \`$base\`"
  echo
  diff_md metrics Metrics
  echo
  diff_md params Parameters
  echo
  echo "## Plots per label"
  echo
  if [[ "${CML_PUBLISH_PLOTS:-true}" == false ]]; then  # kept off CML's public asset host
    python3 scripts/cml/plots.py "$out/plots" >/dev/null
    echo "The plots are in this run's artifact \`cml-report\` (the variable CML_PUBLISH_PLOTS is false:" \
      "they are not uploaded to CML's public asset host)."
  else
    python3 scripts/cml/plots.py "$out/plots"
  fi
} >"$out/report.md"
echo "Report: $out/report.md"
