#!/usr/bin/env bash
# Make .venv: idemclient (editable) with OSC and the test requirements,
# pinned to tools/client-constraints.txt. Quick when it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q -U pip 2>&1 | grep -v '^WARNING: Location' || true
fi
stamp=$(cat requirements.txt test-requirements.txt tools/client-constraints.txt setup.cfg | sha256sum | cut -c1-16)
if [ "$(cat .venv/.idemclient-stamp 2>/dev/null)" != "$stamp" ] || \
   ! .venv/bin/python -c 'import idemclient.hooks' 2>/dev/null; then
  .venv/bin/pip install -q -c tools/client-constraints.txt \
    -r requirements.txt -r test-requirements.txt -e . 2>&1 \
    | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import idemclient.hooks'
  echo "$stamp" > .venv/.idemclient-stamp
fi
