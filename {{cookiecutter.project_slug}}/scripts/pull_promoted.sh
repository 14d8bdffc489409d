# Sourced by label.sh and serve.sh: the promoted model's files (only those) from the DVC remote,
# with the remote's credentials as DVC reads them.
source scripts/remote_credentials.sh

promoted="$(python3 -c 'import yaml; print(yaml.safe_load(open("config.yaml"))["paths"]["promoted"])')"
if [[ ! -f "$promoted/active.dvc" ]]; then
  echo "error: $promoted/active.dvc not found: no model is promoted yet; a training run (or \`promote\`)" \
    "promotes one when it passes its gates, then commit $promoted/ (docs/labelling.md)" >&2
  exit 2
fi
if [[ ! -d .git ]]; then  # a container image holds no git history: DVC works without it when told so
  dvc config --local core.no_scm true
fi
dvc pull --quiet "$promoted/active.dvc"
