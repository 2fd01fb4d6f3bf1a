"""Gate keys also come from the secrets file (the policy layer's get_secret), never a setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from btcn.errors import ConfigError
from btcn.exchange.credentials import gate_credentials


def test_keys_from_the_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secrets"
    path.write_text("GATE_API_KEY=file-key-123\nGATE_API_SECRET=file-secret-456\n")
    os.chmod(path, 0o600)
    monkeypatch.setenv("BTCN_SECRETS_FILE", str(path))
    creds = gate_credentials()
    assert creds.key.get_secret_value() == "file-key-123"
    assert "file-secret-456" not in repr(creds)
    monkeypatch.setenv("GATE_API_KEY", "env-key-789")  # the environment wins over the file
    assert gate_credentials().key.get_secret_value() == "env-key-789"


def test_group_readable_secrets_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secrets"
    path.write_text("GATE_API_KEY=k\nGATE_API_SECRET=s\n")
    os.chmod(path, 0o640)
    monkeypatch.setenv("BTCN_SECRETS_FILE", str(path))
    with pytest.raises(ConfigError, match="accessible by group or others"):
        gate_credentials()
