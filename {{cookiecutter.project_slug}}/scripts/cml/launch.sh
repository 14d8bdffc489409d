#!/usr/bin/env bash
# Start a cloud GPU machine that registers as this repository's runner with the label
# $CML_LABEL, runs one job (--single), and terminates; or terminates after
# $CML_IDLE_TIMEOUT seconds without a job, so that a forgotten machine stops billing.
# Env: CML_CLOUD, CML_REGION, CML_TYPE, CML_GPU, CML_LABEL, CML_SPOT (true|false), REPO_TOKEN,
# and the cloud's credentials (docs/cloud.md, "One-time setup").
set -euo pipefail
: "${CML_CLOUD:?}" "${CML_REGION:?}" "${CML_TYPE:?}" "${CML_GPU:?}" "${CML_LABEL:?}"

args=(
  --cloud="$CML_CLOUD"
  --cloud-region="$CML_REGION"
  --cloud-type="$CML_TYPE"
  --cloud-gpu="$CML_GPU"
  --cloud-hdd-size="${CML_HDD_SIZE:-100}"  # the TensorFlow GPU image alone takes about 15 GB
  --labels="$CML_LABEL"
  --single
  --idle-timeout="${CML_IDLE_TIMEOUT:-600}"
)
if [[ "${CML_SPOT:-false}" == true ]]; then
  args+=(--cloud-spot)
fi
echo "cml runner launch ${args[*]}"
cml runner launch "${args[@]}"
