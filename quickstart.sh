#!/usr/bin/env sh
# Quick start, step 1 of 2: create .venv, install btcn with its test tools (the versions CI tested:
# constraints.txt), and run the main job on the bundled example data (no API key, no network).
# Safe to run again. A failed step stops it with a non-zero exit and one line naming the step.
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
fail() {
  echo "quickstart.sh: $1 failed (exit $2)" >&2
  exit "$2"
}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv || fail "creating .venv with $PYTHON" $?
fi
.venv/bin/python -m pip install --quiet --upgrade pip || fail "upgrading pip in .venv" $?
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]' \
  || fail "installing btcn into .venv (pip install -c constraints.txt -e '.[dev]')" $?
echo "== btcn $(.venv/bin/btcn --version | cut -d' ' -f2) installed in .venv" >&2
echo "== 1/2 backtest + audit + report on examples/ (January 2025, real data) -> run/example/" >&2
bash examples/backtest.sh run/example
echo "== 2/2 one rebalance: btcn plan | btcn execute --dry-run (execution report on stdout)" >&2
bash examples/pipeline.sh
echo "== done: activate the venv (. .venv/bin/activate) to run btcn commands by name" >&2
