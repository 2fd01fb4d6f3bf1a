#!/usr/bin/env bash
# Backtest the strategy on the bundled January 2025 data (spot + perp + funding), then audit the
# run against the roadmap targets (appending to Log.xlsx) and write the daily digest.
# Usage: bash examples/backtest.sh [OUT_DIR]   (default: ./run/example)
# The summary row, the audit and the digest are printed as tables on stderr; their JSON goes to
# files in OUT_DIR. Add --signals examples/signals.csv to the backtest to see signal gating (the
# audit then finds drift and exits with code 8).
# A failed step stops the script with btcn's exit code and one line naming the step. The audit's
# exit 8 is not a failure: it is the audit's finding (a KPI drifted from its target), said in one
# line, and the script goes on to the report.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-run/example}"
btcn="${BTCN:-}"
if [ -z "$btcn" ]; then
  if [ -x "$here/../.venv/bin/btcn" ]; then btcn="$here/../.venv/bin/btcn"; else btcn=btcn; fi
fi

# step NAME FILE CMD...: run CMD with stdout into FILE; on failure say which step and keep its code.
# The JSON is written beside OUT_DIR first and moved in afterwards: btcn backtest refuses a
# non-empty folder that is not a run folder, so nothing may appear in OUT_DIR before it runs.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
step() {
  local name="$1" file="$2" rc=0
  shift 2
  "$@" > "$tmp/$file" || rc=$?
  if [ "$name" = audit ] && [ "$rc" -eq 8 ]; then
    echo "examples/backtest.sh: the audit found KPI drift (exit 8): see its proposals above and Log.xlsx" >&2
    rc=0
  fi
  if [ "$rc" -ne 0 ]; then
    echo "examples/backtest.sh: step '$name' failed (exit $rc); see the error above" >&2
    exit "$rc"
  fi
  mv "$tmp/$file" "$out/$file"
}

step backtest summary.json "$btcn" backtest \
  --candles "$here/data/spot_5m" --perp "$here/data/perp_5m" --funding "$here/data/funding" \
  --config "$here/btcn.toml" --out "$out"
step audit audit.json "$btcn" audit --run "$out" --log "$out/Log.xlsx" --config "$here/btcn.toml"
step report digest.json "$btcn" report --run "$out" --config "$here/btcn.toml"
echo "run folder: $out (summary.csv, equity.html, Log.xlsx, digest-*.md, ...)" >&2
