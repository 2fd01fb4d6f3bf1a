"""One threaded HTTP server on 127.0.0.1 hosting the fake Gate (``/api/v4``) and the fake
Binance (``/api/v3``, ``/fapi/v1``). Started and stopped by tests and benchmarks."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.binance_fake import FakeBinance
from tests.fakes.gate_fake import FakeGate


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return  # never print request lines (and never headers)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if path.startswith("/api/v4"):
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = self.server.gate.handle(self.command, path, query, headers, body)
            if reply.reset:
                self._reset()
                return
            if reply.delay_s:
                time.sleep(reply.delay_s)
            self._send(reply.status, reply.body, reply.headers)
        else:
            status, data, hdrs = self.server.binance.handle(self.command, path, query)
            self._send(status, data, hdrs)

    def _reset(self) -> None:
        # An RST instead of an answer: the request was processed, the client learns nothing.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True

    def _send(self, status: int, data: Any, headers: dict[str, str]) -> None:
        payload = b"" if data is None else json.dumps(data).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            now_us = str(int(time.time() * 1_000_000))
            self.send_header("X-In-Time", now_us)
            self.send_header("X-Out-Time", now_us)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timeout fault): nothing to do

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
    do_PUT = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    gate: FakeGate
    binance: FakeBinance


class FakeServer:
    """``with FakeServer(gate, binance) as srv:`` → ``srv.gate_url``, ``srv.binance_url``."""

    def __init__(self, gate: FakeGate | None = None, binance: FakeBinance | None = None) -> None:
        self.gate = gate or FakeGate()
        self.binance = binance or FakeBinance()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.gate = self.gate
        self._server.binance = self.binance
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def gate_url(self) -> str:
        return self.url + "/api/v4"

    @property
    def binance_url(self) -> str:
        return self.url

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
