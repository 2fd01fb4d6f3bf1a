#!/usr/bin/env bash
# README quick start, step 1, as a new user runs it: twice (a fresh clone, then a second run),
# each time checked by scripts/check_quickstart.py (every file the README promises exists and
# is non-empty; stdout is the execution_report). Run by .ci/run and the GitHub `build` job.
# Prints each run's wall time on stderr; exits non-zero, with one line, when a run or check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for run in 1 2; do
  started=$SECONDS
  sh quickstart.sh > "$out" || {
    rc=$?
    echo "quickstart-check: run $run of sh quickstart.sh failed (exit $rc)" >&2
    exit "$rc"
  }
  elapsed=$((SECONDS - started))
  python3 scripts/check_quickstart.py --stdout "$out" \
    || { echo "quickstart-check: run $run: the README's promises are not met (above)" >&2; exit 1; }
  echo "quickstart-check: run $run passed in $elapsed s" >&2
done
