# btcn container image: the CLI only, state and reports on a volume, no secrets inside.
# Build:  docker build -t btcn .
# Run:    docker run --rm -v "$PWD/data:/data" -e GATE_API_KEY -e GATE_API_SECRET btcn plan ...

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && pip wheel --no-cache-dir --wheel-dir /wheels /wheels/btcn-*.whl

FROM python:3.11-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="btcn" \
      org.opencontainers.image.description="BTC delta-neutral rebalancer for Gate.io: plan, execute, backtest, audit" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 btcn \
 && useradd --system --uid 10001 --gid btcn --home-dir /home/btcn --create-home btcn
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels /wheels/btcn-*.whl \
 && rm -rf /wheels
ENV PYTHONUNBUFFERED=1 \
    BTCN_STATE__PATH=/data/btcn-state.db
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
HEALTHCHECK --interval=5m --timeout=20s --start-period=10s --retries=3 CMD ["btcn", "--version"]
ENTRYPOINT ["btcn"]
CMD ["--help"]
