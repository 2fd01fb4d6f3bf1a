"""Parse the timestamps that appear in signal and funding files into UTC milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp_ms(text: str) -> int:
    """Integer epoch (s, ms or µs by size) or ISO-8601; a naive ISO time is taken as UTC."""
    value = text.strip()
    if not value:
        raise ValueError("empty timestamp")
    if value.lstrip("-").isdigit():
        if len(value) > 17:  # beyond microseconds of year 5000: a typo, and no int64 holds it
            raise ValueError(f"timestamp {value[:20]}... is out of range")
        number = int(value)
        if number >= 10**14:
            return number // 1000  # microseconds
        if number >= 10**11:
            return number  # milliseconds
        return number * 1000  # seconds
    iso = value.replace(" ", "T", 1)
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(iso)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return round(moment.timestamp() * 1000)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a timestamp: {value[:40]!r}") from exc


def parse_data_timestamp_ms(text: str) -> int:
    """:func:`parse_timestamp_ms` for a row of a data file: also between 2009 and tomorrow."""
    from btcn.runtime.boundary import check_timestamp_ms

    return check_timestamp_ms(parse_timestamp_ms(text))


def iso_utc(ms: int) -> str:
    """``2025-01-01T00:00:00Z`` (milliseconds shown only when not zero)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
