"""Secrets (Telegram bot token, InfluxDB token, exchange keys): one way in, never out.

:func:`get_secret` reads a secret from the environment variable of that name, else from the
secrets file (``$BTCN_SECRETS_FILE``, else ``~/.config/btcn/secrets`` if it exists). The file holds
``NAME=value`` lines (``#`` comments, optional quotes) and is refused if its group or others have
any permission on it, as ssh does with private keys. Secrets are never part of the settings file.

Values come back as :class:`pydantic.SecretStr`, whose ``repr``/``str`` hide the value; every value
handed out is also registered with :func:`redact`, which the log handler applies to each line, so a
secret that slips into a message is printed as ``***``. Error messages name the secret and the
file, never the value.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from pydantic import SecretStr

from btcn.errors import ConfigError

SECRETS_FILE_ENV = "BTCN_SECRETS_FILE"
MASK = "***"

_lock = threading.Lock()
_known: set[str] = set()


def default_secrets_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "btcn" / "secrets"


def secrets_file() -> Path | None:
    """The secrets file in force: ``$BTCN_SECRETS_FILE``, else the default one if it exists."""
    env = os.environ.get(SECRETS_FILE_ENV)
    if env:
        return Path(env)
    default = default_secrets_file()
    return default if default.is_file() else None


def _parse_line(line: str, lineno: int, path: Path) -> tuple[str, str] | None:
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    text = text.removeprefix("export ").strip()
    if "=" not in text:
        # The line is not echoed: it could be a pasted token.
        raise ConfigError(f"secrets file {path}: line {lineno} is not NAME=value")
    name, value = text.split("=", 1)
    name, value = name.strip(), value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    if not name:
        raise ConfigError(f"secrets file {path}: line {lineno} has no name before '='")
    return name, value


def read_secrets_file(path: Path) -> dict[str, str]:
    """All ``NAME=value`` pairs of a secrets file, after checking that only its owner can read it."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise ConfigError(f"secrets file not found: {path}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read secrets file {path}: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"secrets file {path} is not a regular file")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"secrets file {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); refusing to read it",
            hint=f"chmod 600 {path}",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read secrets file {path}") from exc
    pairs: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        parsed = _parse_line(line, lineno, path)
        if parsed is not None:
            pairs[parsed[0]] = parsed[1]
    return pairs


def _register(value: str) -> None:
    # Very short values would mask innocent text; real tokens are long.
    if len(value) >= 6:
        with _lock:
            _known.add(value)


def get_secret(name: str, *, required: bool = True) -> SecretStr | None:
    """The secret ``name`` from the environment, else from the secrets file.

    Raises :class:`ConfigError` (naming the variable, never a value) when it is required and
    absent; returns ``None`` when it is optional and absent. An empty value counts as absent.
    """
    value = os.environ.get(name)
    if not value:
        path = secrets_file()
        if path is not None:
            value = read_secrets_file(path).get(name) or None
    if not value:
        if not required:
            return None
        where = f"environment variable {name}"
        path = secrets_file()
        where += (
            f" or secrets file {path}" if path else f" (or a secrets file: ${SECRETS_FILE_ENV})"
        )
        raise ConfigError(f"secret {name} is not set: expected it in the {where}")
    _register(value)
    return SecretStr(value)


def redact(text: str) -> str:
    """``text`` with every secret handed out so far replaced by ``***``."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def forget_all() -> None:
    """Drop the registry of handed-out values (tests)."""
    with _lock:
        _known.clear()
