"""Everything the suite prints or produces, collected for the secret scan (test_zz_secret_scan).

``conftest.py`` records each test's captured stdout/stderr/log and failure text; tests that run
subprocesses or write reports record those outputs explicitly with :func:`record`.
"""

from __future__ import annotations

CAPTURED: list[tuple[str, str]] = []


def record(origin: str, text: str | bytes | None) -> None:
    if text is None:
        return
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    CAPTURED.append((origin, text))
