#!/usr/bin/env bash
# Smoke test of a built btcn image: what .ci/run and the GitHub `docker` job both run.
# Usage: bash scripts/container-smoke.sh [IMAGE]      (default: btcn)
#   ENGINE=docker|podman (default: docker when its daemon answers, else podman)
#   MAX_IMAGE_MB (default 600)
# Checks, each failing with one line and exit 1:
#   size within MAX_IMAGE_MB; OCI labels (version = `btcn --version` = src/btcn/__init__.py,
#   revision = this checkout's commit); the default user is 10001:10001; nothing of the build or
#   the tests inside (no wheels, sources, pip cache, test suites or test tools; every installed
#   version as pinned in constraints.txt); the README's backtest + audit + report on
#   examples/data into a named volume (files owned by 10001) and, with --user, into a host folder
#   owned by the user who runs it (files owned by that user); the image's HEALTHCHECK command
#   passes in both set-ups.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/container-lib.sh
image="${1:-btcn}"
engine="$(container_engine)"
[ "$engine" != podman ] || podman_settings
started=$SECONDS
repo="$PWD"
volume="btcn-smoke-$$"
host="$(mktemp -d)"
cleanup() {
  "$engine" volume rm --force "$volume" > /dev/null 2>&1 || true
  rm -rf "$host"
}
trap cleanup EXIT

# --no-healthcheck: no scheduler of checks here (no systemd under podman); step 6 runs it once.
run() { "$engine" run --rm --no-healthcheck "$@"; }
ok() { echo "container-smoke: ok: $1" >&2; }
inspect() { "$engine" image inspect --format "$1" "$image"; }

# 1. Size.
size_mb=$(($(inspect '{{.Size}}') / 1000000))
[ "$size_mb" -le "${MAX_IMAGE_MB:-600}" ] || die "$image is $size_mb MB, over ${MAX_IMAGE_MB:-600} MB"
ok "size $size_mb MB"

# 2. Labels and version.
label() { inspect "{{index .Config.Labels \"org.opencontainers.image.$1\"}}"; }
want="$(sed -n 's/^__version__ = "\([^"]*\)".*/\1/p' src/btcn/__init__.py)"
have="$(run "$image" --version | cut -d' ' -f2)"
[ "$have" = "$want" ] || die "btcn --version in the image says '$have', src/btcn/__init__.py '$want'"
[ "$(label version)" = "$want" ] || die "label version '$(label version)' is not '$want'"
for name in revision created source; do
  [ -n "$(label "$name")" ] || die "label org.opencontainers.image.$name is missing"
done
if commit="$(git rev-parse HEAD 2> /dev/null)"; then
  [ "$(label revision)" = "$commit" ] || die "label revision '$(label revision)' is not HEAD ($commit)"
fi
ok "btcn $have; labels version, revision $(label revision | cut -c1-12), created $(label created), source $(label source)"

# 3. The default user.
[ "$(run --entrypoint id "$image" -u):$(run --entrypoint id "$image" -g)" = "10001:10001" ] \
  || die "the image does not run as 10001:10001"
ok "runs as 10001:10001"

# 4. Nothing of the build or the tests inside.
leftovers="$(run --entrypoint sh "$image" -c '
  site="$(python -c "import sysconfig; print(sysconfig.get_path(\"purelib\"))")"
  for p in /wheels /src /root/.cache/pip /home/btcn/.cache/pip; do [ ! -e "$p" ] || echo "$p"; done
  # (the base image'"'"'s own ensurepip wheels are not leftovers of this build)
  find / -xdev \( -name "*.whl" -o -name conftest.py -o -name .git -o -name constraints.txt \) \
    -not -path "*/ensurepip/*" -not -path "/usr/share/python-wheels/*" -print 2> /dev/null
  find "$site" -type d -name tests -print
  for m in pytest hypothesis coverage ruff gate_api websocket PIL distributed tests; do
    python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec(\"$m\") is None)" \
      && echo "python module $m"
  done
  true')"
[ -z "$leftovers" ] || die "build or test leftovers in $image: $(echo "$leftovers" | tr '\n' ' ')"
run -v "$repo/scripts:/check:ro" -v "$repo/constraints.txt:/check-constraints.txt:ro" \
  --entrypoint python "$image" /check/check_constraints.py --constraints /check-constraints.txt \
  || die "installed versions differ from constraints.txt (lines above)"
ok "no wheels, sources, pip cache, test suites or test tools; versions as in constraints.txt"

# 5. The README's backtest, audit and report on the example data, in two set-ups.
examples=(-v "$repo/examples:/examples:ro")
main_job() { # ENGINE RUN OPTIONS...: backtest + audit + report into /data/run
  run "$@" "${examples[@]}" "$image" -q backtest --candles /examples/data/spot_5m \
    --perp /examples/data/perp_5m --funding /examples/data/funding --config /examples/btcn.toml \
    --out /data/run > /dev/null || die "backtest in the container failed (exit $?; set-up: $*)"
  # exit 8 is the audit's finding (a KPI drifted from its target; the example month's fee drag
  # does), not a failure: Log.xlsx is written either way
  local rc=0
  run "$@" "${examples[@]}" "$image" -q audit --run /data/run --log /data/run/Log.xlsx \
    --config /examples/btcn.toml > /dev/null || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 8 ] || die "audit in the container failed (exit $rc; set-up: $*)"
  run "$@" "${examples[@]}" "$image" -q report --run /data/run --config /examples/btcn.toml \
    > /dev/null || die "report in the container failed (exit $?; set-up: $*)"
}
healthcheck() { # RUN OPTIONS...: the image's own HEALTHCHECK command, once
  local test_cmd
  test_cmd="$(inspect '{{json .Config.Healthcheck.Test}}')"
  python3 - "$test_cmd" << 'EOF' > "$host.hc" || die "cannot read the HEALTHCHECK of $image"
import json, sys
test = json.loads(sys.argv[1])
assert test and test[0] == "CMD" and len(test) > 1, test
print("\0".join(test[1:]), end="")
EOF
  local -a argv
  mapfile -d '' argv < "$host.hc"
  rm -f "$host.hc"
  run "$@" --entrypoint "${argv[0]}" "$image" "${argv[@]:1}" \
    || die "the image's HEALTHCHECK (${argv[*]}) fails (set-up: $*)"
}
files=(summary.csv equity.html blocked_trades_log.csv run.json Log.xlsx)

"$engine" volume create "$volume" > /dev/null
# A new named volume starts with the image's /data: owned by 10001 even when root mounts it first
# (Docker copies the ownership; so does podman, which otherwise gives it to the mounting user).
data_owner="$(run --user 0:0 -v "$volume:/data" --entrypoint stat "$image" -c %u:%g /data)"
[ "$data_owner" = "10001:10001" ] || die "a new named volume's /data is owned by $data_owner, not 10001:10001"
main_job -v "$volume:/data"
owners="$(run -v "$volume:/data" --entrypoint sh "$image" -c \
  'cd /data/run && for f in "$@"; do test -s "$f" || echo "missing:$f"; stat -c %u "$f"; done; \
   ls digest-*.md > /dev/null || echo missing:digest' sh "${files[@]}" | sort -u | tr '\n' ' ')"
[ "$owners" = "10001 " ] || die "named volume: expected files owned by 10001, got: $owners"
healthcheck -v "$volume:/data"
ok "named volume: backtest, audit, report as 10001; healthcheck passes"

# A host folder owned by the user who runs the container: `--user "$(id -u):$(id -g)"`. As root
# (CI machines) that would prove nothing, so the folder is given to an unprivileged uid instead.
if [ "$(id -u)" = 0 ]; then
  user="4242:4242"
  chown 4242:4242 "$host"
else
  user="$(id -u):$(id -g)"
fi
main_job --user "$user" -v "$host:/data"
for f in "${files[@]}"; do
  [ -s "$host/run/$f" ] || die "host folder: $f missing or empty"
  [ "$(stat -c %u "$host/run/$f")" = "${user%%:*}" ] || die "host folder: $f not owned by ${user%%:*}"
done
ls "$host"/run/digest-*.md > /dev/null 2>&1 || die "host folder: no digest-*.md"
healthcheck --user "$user" -v "$host:/data"
ok "host folder owned by $user with --user $user: backtest, audit, report; healthcheck passes"

echo "container-smoke: $image passed in $((SECONDS - started)) s ($engine)" >&2
