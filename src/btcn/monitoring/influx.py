"""InfluxDB over its HTTP line protocol: 1.x ``/write`` and 2.x ``/api/v2/write``.

Line protocol (``measurement,tag=v field=1.5,n=3i,s="x" 1700000000000``), escaping as documented:

* measurement: ``,`` and space are backslash-escaped;
* tag keys, tag values and field keys: ``,``, ``=`` and space are backslash-escaped. A backslash
  is literal there in InfluxDB 1.x but an escape in 2.x, so a name whose backslash precedes
  another backslash, a special character or the end is refused (checked against influxd 1.6);
* string field values: ``"`` and ``\\`` are backslash-escaped, the value is double-quoted.

Line breaks cannot be represented in names or tag values (InfluxDB splits lines on them), so they
are refused. Non-finite floats (NaN, inf) are not valid InfluxDB values: such a field is left out
of its point (a point left without fields is dropped), which Grafana shows as a gap.
Timestamps are integers in the request's precision (btcn uses milliseconds).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from btcn.exchange.retry import RetryPolicy
from btcn.monitoring.errors import InfluxError
from btcn.monitoring.retry import send_with_retry, service_policy

log = logging.getLogger(__name__)

FieldValue = float | int | bool | str
PRECISIONS = ("ns", "us", "ms", "s")


@dataclass(frozen=True, slots=True)
class Point:
    measurement: str
    fields: Mapping[str, FieldValue]
    ts: int  # in the writer's precision (ms by default)
    tags: Mapping[str, str] = field(default_factory=dict)


def _check_name(text: str, what: str) -> None:
    if not text:
        raise ValueError(f"line protocol: empty {what}")
    if "\n" in text or "\r" in text:
        raise ValueError(f"line protocol: {what} {text!r} contains a line break")
    # InfluxDB 1.x keeps a backslash in a name literally while 2.x reads "\\" as one backslash,
    # and a backslash before a special character or at the end cannot be written unambiguously.
    for i, ch in enumerate(text):
        if ch == "\\" and (i + 1 == len(text) or text[i + 1] in "\\, ="):
            raise ValueError(
                f"line protocol: {what} {text!r} has a backslash before {text[i + 1 : i + 2]!r}"
                " or at its end, which InfluxDB versions read differently"
            )


def escape_measurement(name: str) -> str:
    _check_name(name, "measurement")
    if name.startswith("#"):
        raise ValueError(f"line protocol: measurement {name!r} starts with '#' (a comment)")
    return name.replace(",", "\\,").replace(" ", "\\ ")


def escape_key(text: str, what: str = "key") -> str:
    """Escape a tag key, tag value or field key: ``,``, ``=`` and space get a backslash."""
    _check_name(text, what)
    return text.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def format_field_value(value: FieldValue) -> str | None:
    """The line-protocol text of a field value; ``None`` for a value InfluxDB cannot store."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"unsupported field value type {type(value).__name__}")


def to_line(point: Point) -> str | None:
    """One line of line protocol, or ``None`` if no field has a storable value."""
    fields = []
    for key in sorted(point.fields):
        text = format_field_value(point.fields[key])
        if text is not None:
            fields.append(f"{escape_key(key, 'field key')}={text}")
    if not fields:
        return None
    head = escape_measurement(point.measurement)
    for key in sorted(point.tags):
        value = point.tags[key]
        if value == "":
            continue  # InfluxDB rejects empty tag values; an absent tag means the same
        head += f",{escape_key(key, 'tag key')}={escape_key(value, 'tag value')}"
    return f"{head} {','.join(fields)} {int(point.ts)}"


def batches(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class InfluxTarget:
    """Where and how to write. ``secret`` is the v2 token, or the v1 password (with ``username``)."""

    url: str
    api: str = "v1"
    database: str = "btcn"
    retention_policy: str = ""
    username: str = ""
    org: str = ""
    bucket: str = "btcn"
    secret: str | None = field(default=None, repr=False)
    precision: str = "ms"

    def endpoint(self) -> tuple[str, dict[str, str], dict[str, str], httpx.BasicAuth | None]:
        base = self.url.rstrip("/")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}")
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.api == "v2":
            if not self.org or not self.bucket:
                raise InfluxError("influx v2 needs [influx] org and bucket")
            if not self.secret:
                raise InfluxError("influx v2 needs a token (secret [influx] token_secret)")
            headers["Authorization"] = f"Token {self.secret}"
            params = {"org": self.org, "bucket": self.bucket, "precision": self.precision}
            return f"{base}/api/v2/write", params, headers, None
        if self.api != "v1":
            raise InfluxError(f"[influx] api must be v1 or v2, got {self.api!r}")
        # 1.x calls milliseconds "ms" too, but microseconds "u".
        params = {
            "db": self.database,
            "precision": "u" if self.precision == "us" else self.precision,
        }
        if self.retention_policy:
            params["rp"] = self.retention_policy
        auth = httpx.BasicAuth(self.username, self.secret or "") if self.username else None
        return f"{base}/write", params, headers, auth


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        text = body.get("error") or body.get("message") or ""
    else:
        text = response.text
    return " ".join(str(text).split())[:300]


def _check(response: httpx.Response) -> None:
    if 200 <= response.status_code < 300:
        return
    retryable = response.status_code in (429, 500, 502, 503, 504)
    hint = None
    if response.status_code in (401, 403):
        hint = "check [influx] username/token_secret and the secret's value"
    elif response.status_code == 404:
        hint = "does the database (v1) or org/bucket (v2) exist?"
    raise InfluxError(
        f"influx write failed: HTTP {response.status_code}: {_error_text(response)}",
        hint=hint,
        retryable=retryable,
    )


@dataclass
class WriteStats:
    points: int = 0
    skipped: int = 0
    requests: int = 0
    lines_bytes: int = 0


class InfluxWriter:
    """Writes points in batches of ``batch_size`` lines, one POST per batch, with retries."""

    def __init__(
        self,
        target: InfluxTarget,
        client: httpx.Client,
        *,
        batch_size: int = 5000,
        policy: RetryPolicy | None = None,
        checkpoint: object | None = None,
        sleep: object | None = None,
    ) -> None:
        self.target = target
        self.client = client
        self.batch_size = batch_size
        self.policy = policy or service_policy()
        self._checkpoint = checkpoint
        self._sleep = sleep

    def write_lines(self, lines: Sequence[str]) -> int:
        url, params, headers, auth = self.target.endpoint()
        body = ("\n".join(lines) + "\n").encode("utf-8")

        def send() -> httpx.Response:
            return self.client.post(url, params=params, headers=headers, content=body,
                                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT)  # fmt: skip

        kwargs = {"sleep": self._sleep} if self._sleep is not None else {}
        send_with_retry(
            send, _check, policy=self.policy, service="influx", error=InfluxError, **kwargs
        )  # type: ignore[arg-type]
        return len(body)

    def write(self, points: Iterable[Point]) -> WriteStats:
        stats = WriteStats()

        def lines() -> Iterator[str]:
            for p in points:
                line = to_line(p)
                if line is None:
                    stats.skipped += 1
                    continue
                stats.points += 1
                yield line

        for batch in batches(lines(), self.batch_size):
            stats.lines_bytes += self.write_lines(batch)
            stats.requests += 1
            log.debug("influx: wrote %d lines", len(batch))
            if self._checkpoint is not None:
                self._checkpoint()  # type: ignore[operator]
        return stats
