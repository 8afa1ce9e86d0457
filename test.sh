#!/usr/bin/env bash
# Run the whole test suite (unit, screens, migrations, and browser tests in Chromium).
# Usage: ./test.sh [pytest args]          (SQLite in memory)
#        TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test ./test.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# The real clients the tests drive: Chromium (browser tests) and LibreOffice Calc (the
# spreadsheet round trips of the imports and exports), installed when absent.
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v soffice >/dev/null || missing="$missing libreoffice-calc-nogui"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "Missing:$missing — sudo apt-get install -y$missing (the tests drive them)" >&2
    exit 1
  fi
fi
.venv/bin/ruff check backoffice seed tests bench
exec .venv/bin/python -m pytest "$@"
