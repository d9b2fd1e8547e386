#!/usr/bin/env bash
# The release step: migrate the database and collect static files. Run it once per release,
# before starting (or restarting) the processes; on one host deploy/start.sh runs it for you.
# Needs the same environment as the processes (deploy/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV_BIN-.venv/bin}
PYTHON=${BIN:+$BIN/}python

# Django's deployment checks, failing on errors only: ours refuse clinical text encrypted under the
# development key or a key derived from SECRET_KEY (keneyapp/core/checks.py).
"$PYTHON" manage.py check --deploy --fail-level ERROR
"$PYTHON" manage.py migrate --noinput
# WhiteNoise serves the admin's and the API docs' static files from STATIC_ROOT, with a manifest
# of hashed names; with DEBUG off, a page whose file is missing from it fails.
"$PYTHON" manage.py collectstatic --noinput --verbosity 0
