#!/usr/bin/env bash
# Start the back-office on a fresh machine: virtualenv, install, schema, demo data, serve.
# Usage: ./run.sh            (SQLite file under instance/, http://127.0.0.1:5000/)
#        DATABASE_URL=postgresql://user@host/db ./run.sh
#        PORT=8000 DEMO_YOUTHS=2000 ./run.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
PORT=${PORT:-5000}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask demo-bootstrap --youths "${DEMO_YOUTHS:-500}" --url "http://127.0.0.1:${PORT}/"
exec .venv/bin/flask run --host 127.0.0.1 --port "$PORT"
