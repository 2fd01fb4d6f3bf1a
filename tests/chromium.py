"""Open a page in headless Chromium over the DevTools protocol; collect console errors, uncaught
exceptions and network requests; wait for a selector; take a screenshot.

Chromium runs with a throw-away profile and a host resolver that maps every name to "not found",
so a page that tries to load anything from the network fails visibly instead of quietly working
online only.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websocket


@dataclass
class PageResult:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    selector_count: int = 0
    png: bytes = b""
    load_ms: float = 0.0  # navigation start to the end of the load event (inline scripts ran)


class Cdp:
    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, name: str, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        for ev in self.events:
            if ev["method"] == name:
                return ev
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == name:
                    return msg
        raise TimeoutError(name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


def _describe_console(params: dict) -> str:
    parts = []
    for arg in params.get("args", []):
        parts.append(str(arg.get("value", arg.get("description", arg.get("type")))))
    return " ".join(parts)


def render(chromium: str, url: str, profile: Path, *, selector: str, width: int = 1280,
           height: int = 900, timeout_s: float = 60) -> PageResult:  # fmt: skip
    profile.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--metrics-recording-only",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    cdp = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while not (port_file.is_file() and port_file.read_text().count("\n") >= 1):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        targets = httpx.get(
            f"http://127.0.0.1:{port}/json/list", timeout=10, trust_env=False
        ).json()
        page = next(t for t in targets if t["type"] == "page")
        cdp = Cdp(page["webSocketDebuggerUrl"])
        for domain in ("Runtime", "Log", "Network", "Page"):
            cdp.call(f"{domain}.enable")
        cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                 deviceScaleFactor=1, mobile=False)  # fmt: skip
        cdp.call("Page.navigate", url=url)
        cdp.wait_event("Page.loadEventFired", timeout_s)
        result = PageResult()
        # the page itself waits (frame by frame, within the deadline) for the selector to match,
        # then for two more frames so the last one is painted; the test waits for that answer
        left_ms = max(0, int((deadline - time.monotonic()) * 1000))
        expr = f"""new Promise(done => {{
            const sel = {json.dumps(selector)}, until = performance.now() + {left_ms};
            const frame = () => {{
                const n = document.querySelectorAll(sel).length;
                if (n || performance.now() > until)
                    requestAnimationFrame(() => requestAnimationFrame(() => done(n)));
                else requestAnimationFrame(frame);
            }};
            frame();
        }})"""
        cdp.ws.settimeout(left_ms / 1000 + 10)
        res = cdp.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        result.selector_count = int(res.get("result", {}).get("value") or 0)
        nav = cdp.call(
            "Runtime.evaluate",
            returnByValue=True,
            expression="performance.getEntriesByType('navigation')[0].loadEventEnd",
        )
        result.load_ms = float(nav.get("result", {}).get("value") or 0.0)
        shot = cdp.call("Page.captureScreenshot", format="png")
        result.png = base64.b64decode(shot["data"])
        for ev in cdp.events:
            m, p = ev["method"], ev["params"]
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                result.console_errors.append(_describe_console(p))
            elif m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                result.exceptions.append(
                    d.get("exception", {}).get("description") or d.get("text", "")
                )
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                result.console_errors.append(p["entry"].get("text", ""))
            elif m == "Network.requestWillBeSent":
                result.requests.append(p["request"]["url"])
        return result
    finally:
        if cdp is not None:
            cdp.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def non_background_fraction(png: bytes) -> tuple[float, int]:
    """Share of pixels that differ from the most common colour, and the number of colours."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    colors = img.getcolors(maxcolors=1 << 24) or []
    total = img.width * img.height
    background = max(colors)[0] if colors else total
    return 1 - background / total, len(colors)
