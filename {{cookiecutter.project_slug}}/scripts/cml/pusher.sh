# Sourced by train.sh and sweep_experiment.sh: the background job that pushes checkpoints every few
# minutes (its pid in `pusher`), and `stop_pusher`, which ends it.
pusher=""
stop_pusher() {
  if [[ -n $pusher ]]; then
    kill "$pusher" 2>/dev/null || true
    wait "$pusher" 2>/dev/null || true
    pusher=""
  fi
}
