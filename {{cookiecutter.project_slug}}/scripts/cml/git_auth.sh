# Sourced by the sweep's scripts: git, and DVC's own git client (`dvc exp push`/`pull`), which
# both read GIT_ASKPASS, sign in to GitHub with REPO_TOKEN. The token stays in the environment:
# never in .git/config nor in a URL (the job's checkout keeps no credentials). Without REPO_TOKEN
# (a run off GitHub), git's own credentials serve.
if [[ -n "${REPO_TOKEN:-}" ]]; then
  GIT_ASKPASS="$(mktemp)"
  cat >"$GIT_ASKPASS" <<'EOF'
#!/bin/sh
case "$1" in
  Username*) echo x-access-token ;;
  *) echo "$REPO_TOKEN" ;;
esac
EOF
  chmod 700 "$GIT_ASKPASS"
  export GIT_ASKPASS GIT_TERMINAL_PROMPT=0
fi
