from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cwd(in_tmp_dir: None) -> None:
    """Every test here runs in its own temporary folder (see ``tests/conftest.py``)."""
