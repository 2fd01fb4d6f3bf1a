"""A lock file is removed on release (no command leaves one behind) and still excludes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from btcn.runtime.files import LockBusy, exclusive_lock


def test_the_lock_excludes_and_leaves_no_file(tmp_path: Path) -> None:
    lock = tmp_path / ".x.lock"
    with exclusive_lock(lock):
        assert lock.exists()
        with pytest.raises(LockBusy), exclusive_lock(lock):
            pass
    assert not lock.exists()
    with pytest.raises(RuntimeError), exclusive_lock(lock):  # released and removed on error too
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_a_process_that_opened_the_removed_file_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the protocol covers: B opens the file, A unlinks and releases, B locks the
    unlinked inode; B must notice and lock a new file, else A' and B could both hold a lock."""
    lock = tmp_path / ".x.lock"
    real_open = os.open
    opened: list[int] = []

    def open_then_lose_the_race(path, flags, mode=0o777):  # type: ignore[no-untyped-def]
        fd = real_open(path, flags, mode)
        if not opened:  # the first open: the file is removed (by "A") before we lock it
            os.unlink(path)
        opened.append(fd)
        return fd

    monkeypatch.setattr(os, "open", open_then_lose_the_race)
    with exclusive_lock(lock):
        assert len(opened) == 2 and lock.exists()
        assert os.fstat(opened[1]).st_ino == os.stat(lock).st_ino
    assert not lock.exists()


def test_many_threads_take_turns(tmp_path: Path) -> None:
    lock = tmp_path / ".x.lock"
    inside = []
    errors = []

    def work() -> None:
        for _ in range(50):
            try:
                with exclusive_lock(lock):
                    inside.append(1)
                    if len(inside) > 1:
                        errors.append("two holders")
                    inside.pop()
            except LockBusy:
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and not lock.exists()
