#!/usr/bin/env bash
# The training job of .github/workflows/cml.yaml, which runs anywhere: check the GPU, pull what
# the DVC remote has (outputs, and the checkpoints of an interrupted run of this commit), run the
# pipeline, push every output (also when a stage fails) and the checkpoints meanwhile, write the
# report, promote the model when it passes its gates, and publish the results (scripts/cml/publish.sh);
# the run fails when the model is not promoted, after publishing the report that says why.
# With import.source github, the importer's store goes through the remote too, so that a
# re-import fetches only the issues that changed, and the live precision of the labels applied
# (monitor) joins the report.
# Env: GITHUB_TOKEN (read issues, for import.source github); the DVC remote's credentials;
# CML_REPORT_DIR (default: a new temporary folder);
# CHECKPOINT_PUSH_SECONDS: how often training checkpoints go to the remote (default 300);
# CML_ALLOW_CPU=1 skips the GPU check, for tests only; publish.sh's variables.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 scripts/cml/check_gpu.py
source scripts/remote_credentials.sh

pushed=false
push_outputs() {
  dvc push --run-cache && pushed=true
}
pulled=false  # this run's checkpoints: pushed only once pulled, as a push mirrors the local ones
source scripts/cml/pusher.sh  # pusher, stop_pusher
# A failing or stopped job still saves what it finished and its checkpoints, for the next run
on_exit() {
  stop_pusher
  if [[ $pushed != true ]]; then
    if [[ $pulled == true ]]; then
      python3 -m {{ cookiecutter.package_name }} checkpoints push || true
    fi
    push_outputs
  fi
}
trap on_exit EXIT
trap 'exit 143' TERM

# The outputs of the committed dvc.lock, and the run-cache: stages that an earlier, interrupted
# run finished (a reclaimed spot machine) are restored instead of re-run (`dvc repro --pull`
# below fetches their outputs). A first run has none.
dvc pull --allow-missing --run-cache
# And the checkpoints of the stage that such a run was training, which then resumes where it was
python3 -m {{ cookiecutter.package_name }} checkpoints pull
pulled=true
# A reclaimed machine can vanish without running the trap: push the checkpoints every few minutes
python3 -m {{ cookiecutter.package_name }} checkpoints push --every "${CHECKPOINT_PUSH_SECONDS:-300}" &
pusher=$!
source_kind="$(python3 -c 'import yaml; print(yaml.safe_load(open("config.yaml"))["import"]["source"])')"
if [[ $source_kind == github ]]; then
  # GitHub changes while config.yaml does not: import again, fetching only what changed since the
  # store was saved; the stages after it re-run only if the issues did change
  python3 -m {{ cookiecutter.package_name }} import-cache pull
  dvc repro --pull --force --single-item import_issues
fi
dvc repro --pull  # --pull: the outputs of stages restored from the run-cache
stop_pusher
push_outputs
if [[ $source_kind == github ]]; then
  python3 -m {{ cookiecutter.package_name }} import-cache push || echo "warning: the importer's store was not saved" >&2
fi
# Every stage has finished: its checkpoints are of no more use (each stage removes its own locally)
python3 -m {{ cookiecutter.package_name }} checkpoints clear || echo "warning: checkpoints are left on the remote" >&2

report_dir="${CML_REPORT_DIR:-$(mktemp -d)}"
mkdir -p "$report_dir"
# The gates, no regression from the promoted model, its scores reproduced by the prediction path
promoted=0
python3 -m {{ cookiecutter.package_name }} promote >"$report_dir/promotion.md" 2>"$report_dir/promotion.log" || promoted=$?
grep '^error: ' "$report_dir/promotion.log" | sed 's/^error: \(not promoted: \)\{0,1\}/**Not promoted**: /' >>"$report_dir/promotion.md" || true
if [[ $promoted == 0 ]]; then
  dvc push "$(python3 -c 'import yaml; print(yaml.safe_load(open("config.yaml"))["paths"]["promoted"])')"/*.dvc
fi
if [[ $source_kind == github ]]; then  # how precise the labels applied lately were, for the report
  python3 -m {{ cookiecutter.package_name }} monitor >/dev/null || echo "warning: monitor failed; see above" >&2
fi
scripts/cml/report.sh "$report_dir"
scripts/cml/publish.sh "$report_dir/report.md"
exit "$promoted"
