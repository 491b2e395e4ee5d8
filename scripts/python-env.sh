#!/usr/bin/env bash
# Creates or updates the virtualenv at <repo>/.venv with the pinned Python packages that the
# framework tests (Django, Flask, Starlette, FastAPI), the WebSocket client tests and the
# benchmarks use. Safe to run again: pip only installs what changed.
# Interpreter: $PYTHON if set, else python3 on PATH (3.11 or newer; the pins are checked on 3.11).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$repo/.venv"
requirements="$repo/scripts/python-requirements.txt"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "python-env: $python not found; install Python 3.11 or newer, or set PYTHON=/path/to/python" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "python-env: $("$python" --version 2>&1) is too old; the pins need Python 3.11 or newer (set PYTHON=...)" >&2
  exit 1
fi

# A venv whose interpreter is gone (moved repo, removed Python) is rebuilt rather than patched.
if [ -d "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  echo "python-env: $venv is broken; recreating it"
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi

# pip leaves installed pins alone, so a second run takes about a second.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --requirement "$requirements"
"$venv/bin/python" -c 'import django, flask, starlette, fastapi, websockets'
echo "python-env: $venv ready ($("$venv/bin/python" --version 2>&1))"
