"""Fake venues for tests and benchmarks: real HTTP servers on 127.0.0.1.

:class:`FakeGate` speaks the Gate APIv4 wire format (signatures verified, orders matched against a
scripted book, faults injected on demand); :class:`FakeBinance` serves public klines and funding
with Binance's pagination. :class:`FakeServer` hosts both on one port.
"""

from tests.fakes.binance_fake import FakeBinance
from tests.fakes.gate_fake import FakeGate, Fault
from tests.fakes.server import FakeServer

__all__ = ["FakeBinance", "FakeGate", "FakeServer", "Fault"]
