#!/usr/bin/env bash
# Every test idemclient has: the style checks, the unit tests, the docs
# build (warnings are errors), then the functional tests against a local real cloud (Keystone,
# Nova, Cinder from PyPI) that this script starts and always stops. Sets up
# everything it needs itself.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
CLOUDCTL=idemclient/tests/functional/cloud/cloudctl.py
log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s)

part() {  # part NAME: print how long the previous part took, start NAME
  local now; now=$(date +%s)
  [ -n "${part_name:-}" ] && echo "== $part_name took $((now - part_started))s"
  part_name=$1; part_started=$now
  [ -n "$1" ] && echo "== $1"
}

part "set-up (.venv, Debian packages)"
bash tools/setup-venv.sh || { echo "setting up .venv failed"; exit 1; }
bash tools/setup-system.sh || { echo "installing Debian packages failed"; exit 1; }
# How often the crash matrix kills at each point after sending (1 or more).
trials=$(.venv/bin/python -c 'from idemclient.tests.functional import \
crash_matrix as m; print(m.TRIALS)' 2>&1) || { echo "${trials##*$'\n'}"; exit 1; }
echo "crash matrix: $trials trials at each point after sending (IDEMCLIENT_CRASH_TRIALS)"

totals() {  # add stestr's totals from $log to passed/failed
  local p f
  p=$(sed -n 's/^ - Passed: \([0-9]*\).*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^ - Failed: \([0-9]*\).*/\1/p' "$log" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}
passed=0; failed=0; status=0

part "style (flake8 with OpenStack's hacking, as tox -e pep8)"
if .venv/bin/flake8 idemclient tools doc; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1; echo "the style checks failed"
fi

part "unit tests"
.venv/bin/stestr --test-path ./idemclient/tests/unit run --concurrency 2 \
  2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
totals

part "docs (sphinx-build -W, into doc/build/html)"
# -E: read every page again; the command reference comes from the code,
# which Sphinx does not watch.
if .venv/bin/sphinx-build -q -E -W --keep-going -b html doc/source \
    doc/build/html; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1; echo "the docs build failed"
fi

part "local cloud"
"$PYTHON" "$CLOUDCTL" up || { "$PYTHON" "$CLOUDCTL" down; echo "the local cloud did not start"; echo "idemclient: $passed passed, $((failed + 1)) failed"; exit 1; }
trap '"$PYTHON" "$CLOUDCTL" down; rm -f "$log"' EXIT

part "functional tests (the real openstack command against the cloud)"
.venv/bin/stestr --test-path ./idemclient/tests/functional run \
  --concurrency 2 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
totals

part ""
echo "== all tests took $(( $(date +%s) - started ))s"
[ "$passed" -gt 0 ] || status=1
echo "idemclient: $passed passed, $failed failed"
exit $status
