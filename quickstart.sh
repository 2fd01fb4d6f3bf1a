#!/usr/bin/env sh
# Quick start, step 1 of 2: create .venv, install btcn with its test tools, and run the main job
# on the bundled example data (no API key, no network).
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
echo "== btcn $(.venv/bin/btcn --version | cut -d' ' -f2) installed in .venv" >&2
echo "== 1/2 backtest + audit + report on examples/ (January 2025, real data) -> run/example/" >&2
bash examples/backtest.sh run/example
echo "== 2/2 one rebalance: btcn plan | btcn execute --dry-run (execution report on stdout)" >&2
bash examples/pipeline.sh
