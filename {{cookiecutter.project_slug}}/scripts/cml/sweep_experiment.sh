#!/usr/bin/env bash
# One experiment of .github/workflows/sweep.yaml, which runs anywhere: check the GPU, pull what
# the DVC remote has (the outputs of this commit, the run-cache, and the checkpoints of an
# interrupted run of this experiment), run `dvc exp run -n $SWEEP_NAME` with its -S values while
# the training checkpoints go to the remote every few minutes, then push its outputs and
# run-cache to the DVC remote and the experiment to the Git remote (`dvc exp push origin`), where
# scripts/cml/sweep_compare.sh finds it. A failing or stopped run still pushes what it finished
# and its checkpoints: the next run of the same experiment restores the finished stages from the
# run-cache and resumes the stage in training.
# Env: SWEEP_NAME (the experiment's name), SWEEP_PARAMS (its -S values, one a line, as
# config.yaml:KEY=VALUE); REPO_TOKEN (pushes the experiment; git's own credentials without it);
# the DVC remote's credentials; GITHUB_TOKEN (import.source github, when the remote has no import);
# CHECKPOINT_PUSH_SECONDS (default 300); CML_ALLOW_CPU=1 skips the GPU check, for tests only.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${SWEEP_NAME:?}" "${SWEEP_PARAMS:?}"

python3 scripts/cml/check_gpu.py
source scripts/remote_credentials.sh
source scripts/cml/git_auth.sh
# the experiment's commit (DVC makes it): an identity on machines with no git config
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-cml}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-cml@users.noreply.github.com}"
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}" GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}"

args=()
while IFS= read -r value; do
  if [[ -n $value ]]; then
    args+=(-S "$value")
  fi
done <<<"$SWEEP_PARAMS"

pushed=false
pulled=false  # this experiment's checkpoints: pushed only once pulled, as a push mirrors the local ones
source scripts/cml/pusher.sh  # pusher, stop_pusher
checkpoints() {
  python3 -m {{ cookiecutter.package_name }} checkpoints "$@" --run "$SWEEP_NAME"
}
on_exit() {
  stop_pusher
  if [[ $pushed != true ]]; then
    if [[ $pulled == true ]]; then
      checkpoints push || true
    fi
    dvc push --run-cache || true
  fi
}
trap on_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT  # a cancelled job gets SIGINT first

dvc pull --allow-missing --run-cache
checkpoints pull
pulled=true
# A reclaimed machine can vanish without running the trap: push the checkpoints every few minutes
python3 -m {{ cookiecutter.package_name }} checkpoints push --every "${CHECKPOINT_PUSH_SECONDS:-300}" --run "$SWEEP_NAME" &
pusher=$!
echo "dvc exp run --pull -n $SWEEP_NAME ${args[*]}"
dvc exp run --pull -n "$SWEEP_NAME" "${args[@]}"
stop_pusher
dvc push --run-cache
pushed=true
# --force: a re-run of the sweep replaces the experiment it pushed before
dvc exp push --force --no-cache origin "$SWEEP_NAME"
checkpoints clear || echo "warning: checkpoints are left on the remote" >&2
dvc metrics diff --md HEAD || true
