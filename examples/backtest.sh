#!/usr/bin/env bash
# Backtest the strategy on the bundled January 2025 data (spot + perp + funding), then audit the
# run against the roadmap targets (appending to Log.xlsx) and write the daily digest.
# Usage: bash examples/backtest.sh [OUT_DIR]   (default: ./run/example)
# The summary row, the audit and the digest are printed as tables on stderr; their JSON goes to
# files in OUT_DIR. Add --signals examples/signals.csv to the backtest to see signal gating (the
# audit then finds drift and exits with code 8).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-run/example}"
btcn="${BTCN:-}"
if [ -z "$btcn" ]; then
  if [ -x "$here/../.venv/bin/btcn" ]; then btcn="$here/../.venv/bin/btcn"; else btcn=btcn; fi
fi
mkdir -p "$out"
"$btcn" backtest \
  --candles "$here/data/spot_5m" --perp "$here/data/perp_5m" --funding "$here/data/funding" \
  --config "$here/btcn.toml" --out "$out" > "$out/summary.json" \
&& "$btcn" audit --run "$out" --log "$out/Log.xlsx" --config "$here/btcn.toml" > "$out/audit.json" \
&& "$btcn" report --run "$out" --config "$here/btcn.toml" > "$out/digest.json"
echo "run folder: $out (summary.csv, equity.html, Log.xlsx, digest-*.md, ...)" >&2
