"""Atomic file output: write to a temporary file beside the target, fsync, then rename.

A crash or an error never leaves a partial file under the target name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces the target."""
    dest = Path(target)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_writer(target: str | os.PathLike[str], mode: str = "w") -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``target`` only if the block succeeds."""
    with (
        atomic_path(target) as tmp,
        open(tmp, mode, encoding=None if "b" in mode else "utf-8") as fh,
    ):
        yield fh


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    with atomic_writer(target) as fh:
        fh.write(text)


class LockBusy(Exception):
    """Another process holds the lock (see :func:`exclusive_lock`)."""


@contextlib.contextmanager
def exclusive_lock(lock_path: str | os.PathLike[str]) -> Iterator[None]:
    """An advisory lock on a sidecar file that is removed again on release: no command leaves a
    lock file behind. Raises :class:`LockBusy` at once when another process holds it, OSError
    when the file cannot be created.

    Removing a flock file is safe with this protocol: the holder unlinks the path *before* it
    closes (releases) the descriptor, and whoever obtains the lock checks that the path still
    names the very file it locked, else it starts again on the new file. A process killed with -9
    still releases the lock (the kernel closes the descriptor); its file stays until the next
    holder removes it.
    """
    path = Path(lock_path)
    import fcntl

    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockBusy(str(path)) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed it between our open and our lock: again
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
