#!/usr/bin/env bash
# The main job: set up idemclient and a local real cloud, show the demo,
# stop the cloud. Everything it needs it installs itself.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
CLOUDCTL=idemclient/tests/functional/cloud/cloudctl.py
bash tools/setup-venv.sh || { echo "setting up .venv failed"; exit 1; }
"$PYTHON" "$CLOUDCTL" up || { "$PYTHON" "$CLOUDCTL" down; exit 1; }
trap '"$PYTHON" "$CLOUDCTL" down' EXIT
.venv/bin/python tools/demo.py
