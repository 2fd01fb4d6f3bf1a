#!/usr/bin/env sh
# Regenerate constraints.txt: resolve `.[dev]` afresh in a throw-away venv and pin every version.
# Run after changing dependencies in pyproject.toml, then run the test suite against the result
# (sh quickstart.sh && .venv/bin/python -m pytest) before committing it.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --upgrade pip
"$tmp/venv/bin/python" -m pip install --quiet '.[dev]'
{
  sed -n '1,/^# Regenerate/p' constraints.txt
  "$tmp/venv/bin/python" -m pip freeze --exclude btcn | LC_ALL=C sort -f
} > "$tmp/constraints.txt"
mv "$tmp/constraints.txt" constraints.txt
echo "constraints.txt: $(grep -c '==' constraints.txt) pins" >&2
