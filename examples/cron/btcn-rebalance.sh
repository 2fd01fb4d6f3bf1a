#!/usr/bin/env bash
# One rebalance from cron: fetch -> plan -> execute (-> the live history in history/), under a lock
# so overlapping runs cannot double-trade, with a dated log. Exits non-zero when any step fails
# (cron mails the output).
#
# Environment (all optional):
#   BTCN_HOME     working folder: settings (btcn.toml), state store, data, logs   (default: .)
#   BTCN          the btcn executable                                              (default: btcn)
#   BTCN_VENUE    paper | gate                                                     (default: paper)
#   BTCN_MODE     --dry-run | --live | paper  ("paper" fills the paper account)    (default: --dry-run)
#   BTCN_SIGNALS  a signals CSV for signal gating                                  (default: none)
#   BTCN_HISTORY_DAYS  days of 5 m candles kept for the ATR                        (default: 30)
# Exit codes: those of the failing btcn step (see docs/manual.md), 75 when another run holds the lock.
set -euo pipefail

home="${BTCN_HOME:-.}"
btcn="${BTCN:-btcn}"
venue="${BTCN_VENUE:-paper}"
mode="${BTCN_MODE:---dry-run}"
days="${BTCN_HISTORY_DAYS:-30}"
cd "$home"
mkdir -p logs data plans

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
log="logs/rebalance-$(date -u +%Y-%m-%d).log"

exec 9>".btcn-rebalance.lock"
if ! flock -n 9; then
  echo "$stamp another rebalance is still running; this one is skipped" >> "$log"
  exit 75
fi

case "$mode" in
  --dry-run|--live) execute_flags=("$mode") ;;
  paper) execute_flags=() ;;
  *) echo "$stamp BTCN_MODE must be --dry-run, --live or paper, not '$mode'" >> "$log"; exit 2 ;;
esac
if [ "$mode" = "--live" ] && [ "$venue" != "gate" ]; then
  echo "$stamp --live needs BTCN_VENUE=gate" >> "$log"; exit 2
fi

run() {  # log the command, run it with stderr in the log, fail the script with its exit code
  echo "$stamp \$ btcn $*" >> "$log"
  "$btcn" --quiet "$@" 2>> "$log"
}

{
  echo "$stamp rebalance: venue $venue, mode $mode"
  start="$(date -u -d "$days days ago" +%Y-%m-%d)"
  run fetch candles --source binance-spot --interval 5m --start "$start" --out data/spot_5m.parquet > /dev/null
  if [ "$venue" = "paper" ]; then
    run fetch snapshot --venue paper --candles data/spot_5m.parquet > "plans/$stamp.snapshot.json"
  else
    run fetch snapshot --venue gate > "plans/$stamp.snapshot.json"
  fi
  signals=()
  [ -n "${BTCN_SIGNALS:-}" ] && signals=(--signals "$BTCN_SIGNALS")
  run plan --snapshot "plans/$stamp.snapshot.json" --candles data/spot_5m.parquet "${signals[@]}" \
    > "plans/$stamp.plan.json"
  rc=0
  run execute "${execute_flags[@]}" "plans/$stamp.plan.json" > "plans/$stamp.report.json" || rc=$?
  # the live history (audit, report and monitor read it like a backtest run folder)
  run report --run history --snapshot "plans/$stamp.snapshot.json" \
    --execution "plans/$stamp.report.json" > /dev/null
  [ "$rc" -eq 0 ] || exit "$rc"
  echo "$stamp done: $(grep -o '"status": "[a-z_]*"' "plans/$stamp.report.json" | head -1)"
} >> "$log"
