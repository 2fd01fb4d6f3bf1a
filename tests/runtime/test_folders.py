"""Whole-folder commits: a failure after any step leaves every old file or every new file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from btcn.errors import InvalidInputError
from btcn.runtime import folders
from btcn.runtime.folders import PREFIX, check_output_folder, commit_folder, recover

STEPS = ("build", "fsync", "aside", "in", "clean")


class Boom(KeyboardInterrupt):
    """A BaseException, like the signal exceptions a real interrupt raises."""


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(PREFIX)]


OLD = {"a.txt": "old a", "b.txt": "old b", "keep.txt": "mine"}
NEW = {"a.txt": "new a", "c.txt": "new c", "keep.txt": "mine"}


def make_old(target: Path) -> None:
    target.mkdir()
    for name, text in OLD.items():
        (target / name).write_text(text)


def write_new(tmp: Path) -> None:
    # seeded a.txt would be a hard link to the old file: never write into it in place
    folders.fresh(tmp / "a.txt").write_text("new a")
    (tmp / "c.txt").write_text("new c")


@pytest.mark.parametrize("fail_after", STEPS)
@pytest.mark.parametrize("existing", [True, False])
def test_a_failure_after_any_step_leaves_all_old_or_all_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_after: str, existing: bool
) -> None:
    target = tmp_path / "run"
    if existing:
        make_old(target)
    seen: list[str] = []

    def hook(step: str) -> None:
        seen.append(step)
        if step == fail_after:
            raise Boom

    monkeypatch.setattr(folders, "after_step", hook)
    with pytest.raises(Boom), commit_folder(target, keep=lambda n: n != "b.txt") as tmp:
        write_new(tmp)
    assert seen[-1] == fail_after  # the failure really came at that step
    got = contents(target) if target.exists() else None
    new = NEW if existing else {k: v for k, v in NEW.items() if k != "keep.txt"}
    committed = STEPS.index(fail_after) >= STEPS.index("in")
    if committed:
        assert got == new
    elif existing:
        assert got == OLD
    else:
        assert got is None
    assert leftovers(tmp_path) == []


def test_the_old_files_are_not_changed_through_the_seeded_links(tmp_path: Path) -> None:
    target = tmp_path / "run"
    make_old(target)
    before = os.stat(target / "keep.txt").st_ino
    with pytest.raises(Boom), commit_folder(target, keep=lambda n: True) as tmp:
        write_new(tmp)
        raise Boom
    assert contents(target) == OLD
    assert os.stat(target / "keep.txt").st_ino == before


def test_a_kill_between_aside_and_in_is_undone_by_the_next_commit(tmp_path: Path) -> None:
    target = tmp_path / "run"
    make_old(target)
    # what a kill -9 right after the "aside" rename leaves behind
    os.rename(target, tmp_path / f"{PREFIX}run.old.x1")
    (tmp_path / f"{PREFIX}run.new.x2").mkdir()
    recover(target)
    assert contents(target) == OLD and leftovers(tmp_path) == []


def test_a_kill_after_in_leaves_an_old_copy_that_the_next_commit_deletes(tmp_path: Path) -> None:
    target = tmp_path / "run"
    make_old(target)
    stale = tmp_path / f"{PREFIX}run.old.x1"
    stale.mkdir()
    (stale / "a.txt").write_text("older")
    with commit_folder(target) as tmp:
        write_new(tmp)
    assert contents(target) == {"a.txt": "new a", "c.txt": "new c"}
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "f", "is a file"),
        (lambda d: d / "f" / "sub", "which is a file"),
        (lambda d: Path(""), "give a folder name"),
        (lambda d: Path("."), "give a folder name"),
        (lambda d: d.parent, "contains the current folder"),
    ],
)
def test_unusable_output_folders_are_refused(tmp_path: Path, make, needle: str) -> None:
    (tmp_path / "f").write_text("x")
    os.chdir(tmp_path)
    with pytest.raises(InvalidInputError, match=needle):
        check_output_folder(make(tmp_path))
    assert (tmp_path / "f").read_text() == "x"


def test_replacing_the_current_folder_follows_it(tmp_path: Path) -> None:
    target = tmp_path / "run"
    make_old(target)
    os.chdir(target)
    with commit_folder(target) as tmp:
        write_new(tmp)
    assert Path.cwd() == target and contents(Path(".")) == {"a.txt": "new a", "c.txt": "new c"}
