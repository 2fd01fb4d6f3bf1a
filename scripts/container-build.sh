#!/usr/bin/env bash
# Build the btcn image with its OCI labels (version, revision, created, source).
# Usage: bash scripts/container-build.sh [TAG]        (default tag: btcn)
#   ENGINE=docker|podman  (default: docker when its daemon answers, else podman)
#   DOCKERFILE=path       (default: Dockerfile)
# The base image is pulled first. With podman, when no registry is reachable (this project's CI
# machines), a stand-in base is built from Debian packages instead (mmdebstrap; see
# docs/decisions/0041-container-ci-with-podman.md): it proves the Dockerfile's logic, not the
# official image's bytes, and it trusts this host's extra CA certificates, so never publish an
# image built on it. Prints the build time and the image size on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/container-lib.sh
tag="${1:-btcn}"
engine="$(container_engine)"
base="docker.io/library/python:3.11-slim-bookworm"
started=$SECONDS

version="$(sed -n 's/^__version__ = "\([^"]*\)".*/\1/p' src/btcn/__init__.py)"
[ -n "$version" ] || die "cannot read __version__ from src/btcn/__init__.py"
revision="$(git rev-parse HEAD 2> /dev/null || echo unknown)"
created="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
# A remote URL can carry a token (https://user:token@host/...): keep only scheme, host and path.
source_url="${BTCN_IMAGE_SOURCE:-$(git remote get-url origin 2> /dev/null || echo unknown)}"
source_url="$(printf '%s' "$source_url" | sed -E 's#^([a-z+]+://)[^@/]*@#\1#')"

# The stand-in base: Debian 12's python3.11 in a minimal root file system, shaped like the
# official image (python/pip on PATH, pip allowed to install, UTF-8 locale).
stand_in() {
  command -v mmdebstrap > /dev/null || die "no registry reachable and no mmdebstrap to build a stand-in base (apt-get install mmdebstrap)"
  local work mirror
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2> /dev/null | head -n 1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  echo "container-build: $base cannot be pulled; building a stand-in from $mirror" >&2
  # The dpkg filters are the official slim images': no manuals, no docs but copyrights, no locales.
  mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --include=python3.11,python3-pip,python3-venv,ca-certificates \
    bookworm "$work/rootfs.tar" "$mirror"
  podman import --quiet "$work/rootfs.tar" localhost/btcn-stand-in-rootfs > /dev/null
  mkdir "$work/ctx"
  cp /usr/local/share/ca-certificates/*.crt "$work/ctx/" 2> /dev/null || true
  cat > "$work/ctx/Containerfile" << 'EOF'
FROM localhost/btcn-stand-in-rootfs
COPY . /usr/local/share/ca-certificates/
RUN rm -f /usr/local/share/ca-certificates/Containerfile /usr/lib/python3.11/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3 /usr/local/bin/python \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip \
 && update-ca-certificates > /dev/null
ENV LANG=C.UTF-8
LABEL btcn.stand-in="Debian 12 packages (python3.11), not the official image; CI only"
EOF
  podman build --quiet --pull=never --format docker -t "$base" "$work/ctx" > /dev/null
  podman rmi --force localhost/btcn-stand-in-rootfs > /dev/null
}

pull=()
if [ "$engine" = podman ]; then
  podman_settings
  if timeout 120 podman pull --quiet "$base" > /dev/null 2>&1; then
    echo "container-build: pulled $base" >&2
  elif [ -n "$(podman image inspect --format '{{index .Labels "btcn.stand-in"}}' "$base" 2> /dev/null)" ]; then
    echo "container-build: $base cannot be pulled; reusing the stand-in built earlier" >&2
  else
    stand_in
  fi
  # --format docker: podman's default OCI format drops HEALTHCHECK. --no-cache: podman 4.3
  # (buildah 1.28) cannot bind-mount from a build stage it took from its cache ("couldn't find
  # .../merged/wheels on host"), so the project's layers are always built afresh.
  pull=(--pull=never --format docker --no-cache)
fi

"$engine" build "${pull[@]}" -f "${DOCKERFILE:-Dockerfile}" -t "$tag" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
  --build-arg "CREATED=$created" --build-arg "SOURCE=$source_url" . \
  || die "$engine build failed (exit $?)"
size="$("$engine" image inspect --format '{{.Size}}' "$tag")"
echo "container-build: $tag built in $((SECONDS - started)) s, $((size / 1000000)) MB ($engine)" >&2
