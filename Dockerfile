# btcn container image: the CLI only, state and reports on a volume, no secrets inside.
# Build:  bash scripts/container-build.sh      (sets the labels below; or: docker build -t btcn .)
# Run:    docker run --rm --user "$(id -u):$(id -g)" -v "$PWD/data:/data" \
#           -e GATE_API_KEY -e GATE_API_SECRET btcn plan ...
#         (--user: the container writes as you, into a host folder you own; with a named volume,
#         -v btcn-data:/data, leave --user out: /data belongs to the image's user 10001)
# Smoke test: bash scripts/container-smoke.sh btcn   (what .ci/run and the GitHub job run)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY src ./src
# btcn and every runtime dependency as wheels, at the versions CI tested (constraints.txt).
RUN pip wheel --no-cache-dir --wheel-dir /wheels --constraint constraints.txt .

FROM ${PYTHON_IMAGE} AS runtime
# VERSION must be btcn's own (the install below fails otherwise); scripts/container-build.sh and
# the GitHub job pass all four.
ARG VERSION=0.2.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="btcn" \
      org.opencontainers.image.description="BTC delta-neutral rebalancer for Gate.io: plan, execute, backtest, audit" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}"
# /data is created owned by 10001 while still root: a named volume starts as a copy of it, so
# the non-root user can write there.
RUN groupadd --system --gid 10001 btcn \
 && useradd --system --uid 10001 --gid btcn --home-dir /home/btcn --create-home btcn \
 && mkdir /data \
 && chown 10001:10001 /data
# The wheels are bind-mounted from the build stage, never copied: no layer keeps them. The
# libraries' own test suites (pandas, numpy, pyarrow: 70 MB) go in the same layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "btcn==${VERSION}" \
 && find "$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" -depth \
      \( \( -type d -name tests \) -o \( -type f -name conftest.py \) \) -exec rm -rf {} +
ENV PYTHONUNBUFFERED=1 \
    BTCN_STATE__PATH=/data/btcn-state.db
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
# More than --version: the contracts and the CLI load (`schema` builds a JSON Schema from the
# pydantic models) and the state store's folder is writable by the user the container runs as.
HEALTHCHECK --interval=5m --timeout=20s --start-period=10s --retries=3 \
  CMD ["sh", "-c", "btcn -q schema plan > /dev/null && test -w \"$(dirname \"$BTCN_STATE__PATH\")\""]
ENTRYPOINT ["btcn"]
CMD ["--help"]
