# Sourced by the workflows' scripts: the DVC remote's credentials as DVC reads them.
# CML's convention for GCP is a service-account key as JSON text; DVC reads a key file.
if [[ -n "${GOOGLE_APPLICATION_CREDENTIALS_DATA:-}" && -z "${GOOGLE_APPLICATION_CREDENTIALS:-}" ]]; then
  GOOGLE_APPLICATION_CREDENTIALS="$(mktemp)"
  export GOOGLE_APPLICATION_CREDENTIALS
  printf '%s' "$GOOGLE_APPLICATION_CREDENTIALS_DATA" >"$GOOGLE_APPLICATION_CREDENTIALS"
fi
