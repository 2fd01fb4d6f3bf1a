"""Whole-folder commits: an output folder is replaced as one unit, or left as it was.

A command that writes several files into one folder (``backtest --out``, ``sweep --out``,
``report`` and the live history) builds the new contents in a temporary sibling folder and swaps
it in:

1. ``build``: the caller writes every file into ``.btcn-run-NAME.new.XXXX`` (optionally seeded
   with the files of the current folder that it keeps, as hard links: nothing is copied twice);
2. ``fsync``: every file and the temporary folder are flushed;
3. ``aside``: the current folder (if any) is renamed to ``.btcn-run-NAME.old.XXXX``;
4. ``in``: the temporary folder is renamed to ``NAME``;
5. ``clean``: the old folder is deleted.

Steps 3 and 4 run with SIGINT and SIGTERM held back (handled as the swap ends), and a failure in
step 4 renames the old folder back, so an error or a signal leaves the folder holding either every old file or every new file.
A ``kill -9`` between steps 3 and 4 leaves ``NAME`` missing and its ``.old`` sibling present: the
next commit of that folder (or :func:`recover`) renames it back first. Leftover ``.new`` siblings
are deleted by the next commit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from btcn.errors import InvalidInputError

PREFIX = ".btcn-run-"


def _noop(step: str) -> None:
    return None


# Called after each step with its name; tests replace it to fail at every point of a commit.
after_step: Callable[[str], None] = _noop


def _step(name: str) -> None:
    after_step(name)


def _siblings(target: Path, kind: str) -> list[Path]:
    parent = target.parent
    if not parent.is_dir():
        return []
    stem = f"{PREFIX}{target.name}.{kind}."
    return sorted(
        (p for p in parent.iterdir() if p.name.startswith(stem) and p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )


def recover(target: Path) -> None:
    """Finish or undo a commit that a ``kill -9`` interrupted (see the module docstring)."""
    target = Path(target)
    old = _siblings(target, "old")
    if old and not target.exists():
        os.rename(old.pop(), target)  # killed between "aside" and "in": the old folder returns
    for leftover in old + _siblings(target, "new"):
        shutil.rmtree(leftover, ignore_errors=True)


def check_output_folder(target: Path, option: str = "--out") -> Path:
    """Refuse an output folder that is empty text, a file, under a file, or the current folder."""
    text = str(target)
    if text.strip() in ("", "."):
        raise InvalidInputError(f"{option}: give a folder name (the current folder is not one)")
    path = Path(target)
    if path.exists() and not path.is_dir():
        raise InvalidInputError(f"{option} {path} is a file, not a folder")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidInputError(f"{option} {path} is under {parent}, which is a file")
            break
    if path.resolve() in Path.cwd().resolve().parents:
        raise InvalidInputError(
            f"{option} {path} contains the current folder; give a folder of its own"
        )
    return path


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _seed(src: Path, dst: Path, keep: Callable[[str], bool]) -> None:
    for entry in src.iterdir():
        if entry.name.startswith(PREFIX) or not keep(entry.name):
            continue
        if entry.is_dir():
            shutil.copytree(entry, dst / entry.name, symlinks=True)
            continue
        try:
            os.link(entry, dst / entry.name)  # files are replaced, never edited: a link is safe
        except OSError:
            shutil.copy2(entry, dst / entry.name)


def fresh(path: Path) -> Path:
    """``path`` with any seeded file removed first: a seeded file is a hard link to the current
    folder's file, so writing into it in place would change the current folder too."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return path


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM that arrive inside the block take effect when it ends.

    Python runs signal handlers in the main thread whichever thread the kernel delivered the
    signal to (pyarrow's worker threads do not block signals), so masking the main thread alone
    does not hold a signal back: the handlers are swapped for one that only records the signal,
    and the first one recorded is handed to the previous handler on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def record(signum: int, frame: object) -> None:
        caught.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])


def _is_cwd(folder: Path) -> bool:
    try:
        return os.path.samefile(folder, os.getcwd())
    except OSError:
        return False


def _swap(new: Path, target: Path) -> None:
    old: Path | None = None
    swapped = False
    try:
        with _signals_deferred():
            if target.exists():
                old = Path(
                    tempfile.mkdtemp(prefix=f"{PREFIX}{target.name}.old.", dir=target.parent)
                )
                os.rename(target, old)  # replaces the empty placeholder folder
            try:
                _step("aside")
                os.rename(new, target)
                swapped = True
            except BaseException:
                if old is not None and not target.exists():
                    os.rename(old, target)
                    old = None
                raise
            _fsync_dir(target.parent)
            if old is not None and _is_cwd(old):
                os.chdir(target)  # the process worked in the folder it replaced: follow the new one
        _step("in")
    finally:
        # a signal held back during the swap is raised as the block ends: the old folder still
        # goes (once the new one is in), so nothing of the commit is left beside it
        if old is not None and swapped:
            shutil.rmtree(old, ignore_errors=True)
    _step("clean")


@contextlib.contextmanager
def commit_folder(
    target: str | os.PathLike[str],
    *,
    keep: Callable[[str], bool] | None = None,
    option: str = "--out",
) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success it replaces ``target`` as one unit.

    ``keep(name)`` selects the entries of the current folder that the new one starts with (none
    when ``keep`` is None). On an exception the temporary folder is deleted and ``target`` is
    untouched.
    """
    dest = check_output_folder(Path(target), option).absolute()
    recover(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{dest.name}.new.", dir=dest.parent))
    except OSError as exc:
        raise InvalidInputError(
            f"{option} {dest}: cannot write beside it: {exc.strerror or exc}"
        ) from None
    try:
        if keep is not None and dest.is_dir():
            _seed(dest, new, keep)
        yield new
        _step("build")
        _fsync_tree(new)
        _step("fsync")
        _swap(new, dest)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


def refuse_foreign(
    target: Path, is_ours: Callable[[Path], bool], what: str, *, force: bool, option: str = "--out"
) -> None:
    """Refuse to replace a non-empty folder that ``is_ours`` does not recognise, unless ``force``.

    A folder btcn did not write may hold anything; replacing it would delete the user's files.
    """
    if force or not target.is_dir() or is_ours(target):
        return
    if any(not p.name.startswith(PREFIX) for p in target.iterdir()):
        raise InvalidInputError(
            f"{option} {target} is not empty and is not {what}; nothing was written",
            hint="choose a new folder, or pass --force to replace its btcn files "
            "(other files are kept)",
        )
