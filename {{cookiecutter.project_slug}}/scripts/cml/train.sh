#!/usr/bin/env bash
# The training job of .github/workflows/cml.yaml, which runs anywhere: check the GPU, pull what
# the DVC remote has, run the pipeline, push every output (also when a stage fails), write the
# report and publish the results (scripts/cml/publish.sh).
# Env: the DVC remote's credentials; CML_REPORT_DIR (default: a new temporary folder);
# CML_ALLOW_CPU=1 skips the GPU check, for tests only; publish.sh's variables.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 scripts/cml/check_gpu.py

# CML's convention for GCP is a service-account key as JSON text; DVC reads a key file
if [[ -n "${GOOGLE_APPLICATION_CREDENTIALS_DATA:-}" && -z "${GOOGLE_APPLICATION_CREDENTIALS:-}" ]]; then
  GOOGLE_APPLICATION_CREDENTIALS="$(mktemp)"
  export GOOGLE_APPLICATION_CREDENTIALS
  printf '%s' "$GOOGLE_APPLICATION_CREDENTIALS_DATA" >"$GOOGLE_APPLICATION_CREDENTIALS"
fi

# The outputs of the committed dvc.lock, and the run-cache: stages that an earlier, interrupted
# run finished (a reclaimed spot machine) are restored instead of re-run. A first run has none.
dvc pull --allow-missing --run-cache

pushed=false
push_outputs() {
  dvc push --run-cache && pushed=true
}
# A failing or stopped pipeline still saves what it finished, for the next run to start from
trap '[[ $pushed == true ]] || push_outputs' EXIT
trap 'exit 143' TERM
dvc repro
push_outputs

report_dir="${CML_REPORT_DIR:-$(mktemp -d)}"
scripts/cml/report.sh "$report_dir"
scripts/cml/publish.sh "$report_dir/report.md"
