#!/usr/bin/env bash
# Creates or updates the virtualenv at <repo>/.venv with the pinned Python packages that the
# framework tests (Django, Flask, Starlette, FastAPI), the WebSocket client tests and the
# benchmarks use. Safe to run again: pip only installs what changed.
# Interpreter: $PYTHON if set, else python3 on PATH (3.11 or newer; the pins are checked on 3.11).
# With --if-possible (as `pnpm test` runs it), a machine where no venv can be made (no python3, an
# older one, or no ensurepip: apt-get install python3-venv) is not an error: it says why and the
# tests that need .venv skip, saying so in the summary.
set -euo pipefail
if_possible=false
if [ "${1:-}" = "--if-possible" ]; then if_possible=true; fi
cannot() {
  if $if_possible; then
    echo "python-env: $1; the tests that need .venv (Django, Flask, FastAPI, Starlette, websockets) will skip" >&2
    exit 0
  fi
  echo "python-env: $1" >&2
  exit 1
}
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$repo/.venv"
requirements="$repo/scripts/python-requirements.txt"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  cannot "$python not found; install Python 3.11 or newer, or set PYTHON=/path/to/python"
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  cannot "$("$python" --version 2>&1) is too old; the pins need Python 3.11 or newer (set PYTHON=...)"
fi
if [ ! -x "$venv/bin/python" ] && ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  cannot "$python -m venv cannot make a virtualenv here (no ensurepip: apt-get install python3-venv)"
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
