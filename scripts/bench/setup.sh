#!/usr/bin/env bash
# Installs what `pnpm bench` needs besides Node.js: wrk, h2load (nghttp2-client, for HTTP/2) and
# nginx (in front of gunicorn for the slow-client scenario) from Debian's packages when they are
# missing, and the pinned peers (gunicorn, uvicorn with httptools and uvloop, hypercorn, granian)
# in <repo>/.venv through scripts/python-env.sh. Safe to run again. apt-get needs root (or sudo).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt=(apt-get)
  elif command -v sudo >/dev/null 2>&1; then
    apt=(sudo apt-get)
  else
    echo "bench setup: install ${missing[*]} (apt-get install ${missing[*]}); without wrk the harness uses autocannon if it is on PATH" >&2
    exit 1
  fi
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi
bash "$repo/scripts/python-env.sh"
echo "bench setup: $(command -v wrk), $(command -v h2load) and $(command -v nginx || echo /usr/sbin/nginx) ready"
