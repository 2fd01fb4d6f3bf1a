"""The session-finish secret scan fails a run whose output holds the key, wherever the leaking
test sits in the order, and passes a clean one. Each case is a separate pytest process with this
suite's conftest (so the outer session's scan never sees the planted key)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import secret_scan
from tests.helpers import KEY, SECRET

ROOT = Path(__file__).resolve().parents[1]

LEAK_FIRST = """
def test_a_leak(tmp_path):
    (tmp_path / "report.txt").write_text("key=" + KEY)

def test_after_it():
    assert True
"""
LEAK_IN_OUTPUT = """
def test_before_it():
    assert True

def test_prints_the_secret():
    print("secret:", SECRET)
"""
CLEAN = """
def test_clean(tmp_path):
    (tmp_path / "report.txt").write_text("nothing to see")
"""


def _run(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    inner = tmp_path / "inner"
    inner.mkdir()
    # the inner suite uses this suite's hooks: the captured-output recorder, the temporary-folder
    # root and the session-finish scan
    (inner / "conftest.py").write_text(
        "from tests.conftest import _secret_scan_root, pytest_runtest_makereport, "
        "pytest_sessionfinish  # noqa: F401\n"
    )
    (inner / "test_inner.py").write_text(f"from tests.helpers import KEY, SECRET\n{body}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCN_")}
    env["PYTHONPATH"] = str(ROOT)
    base = tmp_path / "base"
    try:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=",
             "--rootdir", str(tmp_path), "--basetemp", str(base), str(inner)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    finally:  # the planted leak must not reach the outer session's scan of its own files
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize(("body", "origin"), [(LEAK_FIRST, "test_a_leak0/report.txt"),
                                               (LEAK_IN_OUTPUT, "test_prints_the_secret [call stdout]")],
                         ids=["file-first", "stdout-last"])  # fmt: skip
def test_a_leak_fails_the_session(tmp_path: Path, body: str, origin: str) -> None:
    res = _run(tmp_path, body)
    assert res.returncode == pytest.ExitCode.TESTS_FAILED, res.stdout + res.stderr
    assert "secret scan: the test key or secret appears in" in res.stdout and origin in res.stdout
    assert "passed" in res.stdout and "failed" not in res.stdout.split("secret scan")[0]


def test_a_clean_session_passes(tmp_path: Path) -> None:
    res = _run(tmp_path, CLEAN)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no key or secret" in res.stdout


def test_leaks_names_each_text_holding_a_secret() -> None:
    texts = [("a", "fine"), ("b", f"x{KEY}y"), ("c", SECRET), ("d", "")]
    assert secret_scan.leaks(texts, (KEY, SECRET)) == ["b", "c"]
    assert secret_scan.leaks(texts, ("",)) == []  # an empty secret matches nothing
