"""Quick start and its example scripts: they do the main job on a fresh folder and again, fail
loudly (non-zero exit, one line naming the step) when a step fails, and the CI check of the
README's promises fails on the folder the old examples/backtest.sh left behind."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from btcn.errors import ExitCode
from tests.conftest import EXAMPLES, ROOT

BTCN = str(Path(sys.executable).parent / "btcn")


def script_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_quickstart = script_module("check_quickstart")
check_constraints = script_module("check_constraints")


def run_example(script: str, *args: str, env_extra: dict[str, str] | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCN_")}
    env.update({"BTCN": BTCN, **(env_extra or {})})
    return subprocess.run(["bash", str(EXAMPLES / script), *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300, check=False)  # fmt: skip


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def example_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tree shaped like a checkout after quick start: README.md and run/example/, run twice."""
    root = tmp_path_factory.mktemp("checkout")
    (root / "README.md").write_text((ROOT / "README.md").read_text(encoding="utf-8"))
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "btcn").write_text("")
    for _ in range(2):  # a fresh folder, then a second run into the same folder
        res = run_example("backtest.sh", "run/example", cwd=root)
        assert res.returncode == 0, res.stderr
    return root


def test_backtest_example_writes_everything_the_readme_promises(example_root: Path) -> None:
    names = check_quickstart.promised_files((ROOT / "README.md").read_text(encoding="utf-8"))
    assert {"summary.csv", "equity.html", "Log.xlsx"} <= set(names)
    assert check_quickstart.check_run_folder(example_root, names) == []
    assert check_quickstart.main(["--root", str(example_root)]) == 0


def test_the_check_fails_on_what_the_old_backtest_example_left(tmp_path: Path) -> None:
    """The old script created run/example/summary.json before `btcn backtest` ran; the backtest
    refused the folder, the && chain hid it, and only an empty summary.json was left."""
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text(encoding="utf-8"))
    (tmp_path / "run" / "example").mkdir(parents=True)
    (tmp_path / "run" / "example" / "summary.json").write_text("")
    problems = check_quickstart.check_run_folder(
        tmp_path, check_quickstart.promised_files((tmp_path / "README.md").read_text())
    )
    assert "run/example/summary.json: empty" in problems
    assert "run/example/summary.csv: missing" in problems
    assert check_quickstart.main(["--root", str(tmp_path)]) == 1


def test_a_failed_step_stops_the_example_with_its_code_and_one_line(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    res = run_example("backtest.sh", str(out))
    assert res.returncode == ExitCode.INVALID_INPUT
    assert last_line(res.stderr) == (
        "examples/backtest.sh: step 'backtest' failed (exit 3); see the error above"
    )
    assert "not a btcn run folder" in res.stderr and "Traceback" not in res.stderr
    assert "run folder:" not in res.stderr  # no success line after a failure
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # nothing written


def test_pipeline_example_names_the_failed_step() -> None:
    res = run_example("pipeline.sh", env_extra={"BTCN_STRATEGY__COOLDOWN": "soon"})
    assert res.returncode == ExitCode.CONFIG and res.stdout == ""
    assert last_line(res.stderr) == (
        "examples/pipeline.sh: step 'plan' failed (exit 4); see the error above"
    )


def test_stdout_check_wants_the_execution_report(tmp_path: Path) -> None:
    stdout = tmp_path / "out.json"
    stdout.write_text('{"kind": "plan"}')
    assert check_quickstart.check_stdout(stdout) == [
        f"quick start stdout ({stdout}): not an execution_report"
    ]
    stdout.write_text("")
    assert "not one JSON document" in check_quickstart.check_stdout(stdout)[0]


def test_constraints_pin_every_installed_version_exactly() -> None:
    pins = check_constraints.read_pins((ROOT / "constraints.txt").read_text(encoding="utf-8"))
    have = {"pandas": "3.1.2", "pip": "24.0", "btcn": "0.2.0", "left-pad": "1.0"}
    assert check_constraints.differences({"pandas": "3.1.2"}, have, complete=False) == [
        "left-pad==1.0 is installed but not pinned"
    ]
    stale = check_constraints.differences({"pandas": "3.0.0"}, {"pandas": "3.1.2"}, complete=True)
    assert stale == ["pandas==3.1.2 is installed, constraints pin 3.0.0"]
    assert check_constraints.differences({"numpy": "2.4.6"}, {}, complete=True) == [
        "numpy==2.4.6 is pinned but not installed"
    ]
    for dep in ("pandas", "pyarrow", "pydantic", "typer", "pytest", "hypothesis"):
        assert dep in pins, dep
    with pytest.raises(SystemExit, match="not an exact pin"):
        check_constraints.read_pins("pandas>=2\n")


def test_one_version_everywhere() -> None:
    """btcn --version, the installed metadata (pyproject reads btcn.__version__) and the image's
    VERSION label default agree; the Dockerfile installs btcn==VERSION, so a stale one fails."""
    from importlib.metadata import version

    import btcn

    out = subprocess.run([BTCN, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout == f"btcn {btcn.__version__}\n"
    assert version("btcn") == btcn.__version__
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG VERSION=(\S+)$", dockerfile, re.M).group(1) == btcn.__version__
