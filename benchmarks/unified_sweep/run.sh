#!/bin/sh
# The unified defaults sweep (decision 0071), in-sample part of the first real block only.
# Usage: benchmarks/unified_sweep/run.sh OUT_DIR [extra btcn sweep options, e.g. --walk-forward 90d:30d]
set -eu
OUT=$1; shift
D=${BTCN_REAL_DATA:-../shared/data/real}
HERE=$(dirname "$0")
exec .venv/bin/btcn sweep --config "$HERE/unified.toml" --grid "$HERE/grid.toml" \
  --candles "$D/spot_5m/vision/BTCUSDT-5m-2023-1*.csv" --candles "$D/spot_5m/vision/BTCUSDT-5m-2024-0*.csv" \
  --perp "$D/perp_5m/ohlcv/BTCUSDT-5m-2023-1*.csv" --perp "$D/perp_5m/ohlcv/BTCUSDT-5m-2024-0*.csv" \
  --funding "$D/funding/BTCUSDT-fundingRate-8h-2023-10_2025-03.csv" \
  --start 2023-10-01 --end 2024-09-30 --workers 1 --metric cagr --out "$OUT" "$@"
