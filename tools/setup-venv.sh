#!/usr/bin/env bash
# Make .venv: idemclient (editable) with OSC, the test requirements and
# Sphinx for the docs, pinned to tools/client-constraints.txt. Quick when it
# is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q -U pip >/dev/null 2>&1 || true
fi
stamp=$(cat requirements.txt test-requirements.txt doc/requirements.txt \
  tools/client-constraints.txt setup.cfg | sha256sum | cut -c1-16)
if [ "$(cat .venv/.idemclient-stamp 2>/dev/null)" != "$stamp" ] || \
   ! .venv/bin/python -c 'import idemclient.hooks, cliff.sphinxext' \
     2>/dev/null; then
  echo "installing idemclient and its test and docs requirements into .venv"
  rm -rf idemclient.egg-info  # pbr would keep stale entry points from it
  log=$(mktemp)
  .venv/bin/pip install -q -c tools/client-constraints.txt \
    -r requirements.txt -r test-requirements.txt -r doc/requirements.txt \
    -e . >"$log" 2>&1 \
    || { grep -v '^WARNING: Location' "$log" | tail -40; rm -f "$log"; exit 1; }
  rm -f "$log"
  .venv/bin/python -c 'import idemclient.hooks'
  echo "$stamp" > .venv/.idemclient-stamp
fi
