#!/usr/bin/env bash
# One offline rebalance on the bundled January 2025 data: plan, then a dry-run execution.
# Prints the execution_report JSON on stdout and nothing else; the plan and report tables go to
# stderr. No API key, no network, nothing is stored.
# A failed step stops the script with btcn's exit code and one line naming the step.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
btcn="${BTCN:-}"
if [ -z "$btcn" ]; then
  if [ -x "$here/../.venv/bin/btcn" ]; then btcn="$here/../.venv/bin/btcn"; else btcn=btcn; fi
fi
# A private, empty state store: the example never sees a cooldown from earlier paper runs.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
state="$tmp/state.db"
codes=(0 0)
"$btcn" plan \
  --snapshot "$here/snapshot.json" \
  --candles "$here/data/spot_5m" \
  --signals "$here/signals.csv" \
  --config "$here/btcn.toml" \
  --state "$state" \
| "$btcn" execute --dry-run --config "$here/btcn.toml" --state "$state" || codes=("${PIPESTATUS[@]}")
for i in 0 1; do
  if [ "${codes[$i]}" -ne 0 ]; then
    name=(plan execute)
    echo "examples/pipeline.sh: step '${name[$i]}' failed (exit ${codes[$i]}); see the error above" >&2
    exit "${codes[$i]}"
  fi
done
