"""Real local services for integration tests: influxd, a recording HTTP server, binaries.

A test that needs a service binary (influxd, chromium, soffice) is skipped when it is missing,
unless BTCN_REQUIRE_SERVICES=1 (set by .ci/run), in which case it fails: CI must not go green by
skipping the very tests that prove the integrations.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (Debian package; .ci/run installs it)"
        if os.environ.get("BTCN_REQUIRE_SERVICES", "") not in ("", "0"):
            pytest.fail(msg + " and BTCN_REQUIRE_SERVICES is set")
        pytest.skip(msg)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- recording HTTP server ------------------------------------------------------------------
@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


Responder = Callable[[Recorded], tuple[int, dict[str, str], bytes]]


@dataclass
class RecordingServer:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    responder: Responder | None = None

    def clear(self) -> None:
        self.requests.clear()


@contextlib.contextmanager
def recording_server(responder: Responder) -> Iterator[RecordingServer]:
    """A loopback HTTP server that records each request and answers with ``responder``."""
    rec = RecordingServer(url="", responder=responder)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            r = Recorded(self.command, parts.path, parse_qs(parts.query),
                         {k.lower(): v for k, v in self.headers.items()}, body)  # fmt: skip
            rec.requests.append(r)
            assert rec.responder is not None
            status, headers, payload = rec.responder(r)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- influxd 1.x ----------------------------------------------------------------------------
INFLUX_CONF = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[retention]
  enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
[continuous_queries]
  enabled = false
"""


@dataclass
class Influxd:
    url: str
    process: subprocess.Popen[bytes]

    def query(self, q: str, db: str | None = None) -> dict:
        params = {"q": q, "epoch": "ms"}
        if db:
            params["db"] = db
        r = httpx.post(f"{self.url}/query", params=params, timeout=10, trust_env=False)
        r.raise_for_status()
        return r.json()

    def create_db(self, name: str) -> None:
        self.query(f'CREATE DATABASE "{name}"')

    def series(self, db: str, q: str) -> list[dict]:
        res = self.query(q, db)["results"][0]
        assert "error" not in res, res
        out = []
        for s in res.get("series", []):
            for v in s["values"]:
                out.append(dict(zip(s["columns"], v, strict=True)) | {"_tags": s.get("tags", {})})
        return out


@contextlib.contextmanager
def run_influxd(root: Path) -> Iterator[Influxd]:
    binary = require_binary("influxd")
    http_port, rpc_port = free_port(), free_port()
    conf = root / "influxdb.conf"
    conf.write_text(INFLUX_CONF.format(root=root, rpc=rpc_port, http=http_port))
    log = open(root / "influxd.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([binary, "-config", str(conf)], stdout=log, stderr=log,
                            env={**os.environ, "INFLUXDB_REPORTING_DISABLED": "true"})  # fmt: skip
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/ping", timeout=1, trust_env=False).status_code == 204:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("influxd did not start: " + (root / "influxd.log").read_text()[-2000:])
            time.sleep(0.1)
        yield Influxd(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
