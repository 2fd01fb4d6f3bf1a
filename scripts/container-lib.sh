# Shared by scripts/container-build.sh and scripts/container-smoke.sh (sourced, not run).
# Picks the engine and, for podman, the settings this project's CI machines need
# (docs/decisions/0041-container-ci-with-podman.md).

# ENGINE=docker|podman; default: docker when its daemon answers, else podman.
container_engine() {
  if [ -n "${ENGINE:-}" ]; then
    echo "$ENGINE"
  elif command -v docker > /dev/null 2>&1 && docker info > /dev/null 2>&1; then
    echo docker
  elif command -v podman > /dev/null 2>&1; then
    echo podman
  else
    echo "container: neither a docker daemon nor podman found; install one (Debian: apt-get install podman runc)" >&2
    return 1
  fi
}

# Podman as root on a host where the hard limits cannot be raised and cgroups are hybrid: default
# ulimits no higher than the hard limits runc inherits, and the runc runtime (crun refuses both). An existing
# CONTAINERS_CONF is left alone.
podman_settings() {
  [ -z "${CONTAINERS_CONF:-}" ] || return 0
  local conf="${TMPDIR:-/tmp}/btcn-containers.conf" nofile nproc
  nofile="$(ulimit -Hn)" nproc="$(ulimit -Hu)"
  [ "$nofile" != unlimited ] || nofile=-1
  # podman lowers its own (and conmon's) process limit to 32768 here, and runc inherits that.
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
  cat > "$conf" << EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF="$conf"
}

# One line on stderr and the exit code: the scripts' only way of failing.
die() {
  echo "$(basename "$0"): $1" >&2
  exit "${2:-1}"
}
