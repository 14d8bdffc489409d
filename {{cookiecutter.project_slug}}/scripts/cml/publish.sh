#!/usr/bin/env bash
# Publish a training run: the report $1 as one comment that later runs update (on the branch's
# pull request, else on the commit), then dvc.lock and the small outputs DVC keeps in git
# (metrics, report, plots) either committed back to the branch with [skip ci]
# (CML_RESULTS=commit, the default) or proposed in a pull request (CML_RESULTS=pr).
# Env: REPO_TOKEN, GITHUB_REPOSITORY, GITHUB_REF_NAME (the branch), GITHUB_SHA, GITHUB_API_URL,
# CML_PUBLISH_PLOTS (default true).
set -euo pipefail
report="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
cd "$(dirname "$0")/../.."

target="$(python3 scripts/cml/target.py)"
# --publish uploads the report's local images to CML's asset host (https://asset.cml.dev: public
# URLs); CML_PUBLISH_PLOTS=false keeps them off it (the report then shows none)
cml comment update --target="$target" --watermark-title="cml training report" \
  --publish="${CML_PUBLISH_PLOTS:-true}" "$report"

# Everything DVC does not cache is small and belongs in git; the cached outputs are ignored
# through the .gitignore files that DVC writes.
git add --all
if git diff --cached --quiet; then
  echo "Nothing changed: no commit."
  exit 0
fi
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-cml}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-cml@users.noreply.github.com}"
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}" GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}"
message="Train on ${GITHUB_SHA:0:8}: dvc.lock and metrics [skip ci]"
case "${CML_RESULTS:-commit}" in
  commit)
    git commit --quiet --message "$message"
    # the job's checkout keeps no credentials: REPO_TOKEN authenticates this one push
    auth="AUTHORIZATION: basic $(printf 'x-access-token:%s' "$REPO_TOKEN" | base64 | tr -d '\n')"
    if ! git -c "http.extraheader=$auth" push origin "HEAD:refs/heads/$GITHUB_REF_NAME"; then
      echo "error: could not push the results to $GITHUB_REF_NAME (protected, or it moved on);" \
        "the outputs are in the DVC remote: re-run with results=pr" >&2
      exit 1
    fi
    ;;
  pr)
    mapfile -t changed < <(git diff --cached --name-only)
    cml pr create --skip-ci --message="$message" --title="Training results of ${GITHUB_SHA:0:8}" \
      --body="dvc.lock and metrics of the training run on $GITHUB_SHA; the outputs are in the DVC remote." \
      "${changed[@]}"
    ;;
  *)
    echo "error: CML_RESULTS: expected commit or pr; found '$CML_RESULTS'" >&2
    exit 2
    ;;
esac
