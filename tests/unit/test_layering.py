"""The functional core stays pure: core/ and contracts/ import no I/O, CLI or clock modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "btcn"
FORBIDDEN = {"httpx", "typer", "rich", "psutil", "tenacity", "sqlite3", "time", "datetime", "os",
             "random", "requests", "socket", "btcn.cli", "btcn.stages", "btcn.exchange",
             "btcn.runtime", "btcn.backtest", "btcn.monitoring"}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", ["core", "contracts"])
def test_pure_packages_import_nothing_impure(package: str) -> None:
    for path in sorted((SRC / package).glob("*.py")):
        for mod in imported_modules(path):
            root = mod if mod.startswith("btcn.") else mod.split(".")[0]
            bad = {f for f in FORBIDDEN if root == f or root.startswith(f + ".")}
            assert not bad, f"{path.relative_to(SRC)} imports {mod}"
        text = path.read_text()
        assert "os.environ" not in text and "getenv" not in text and "time.time" not in text, path


def test_cli_modules_keep_heavy_imports_lazy() -> None:
    heavy = {"pandas", "pyarrow", "numpy", "httpx", "btcn.stages", "btcn.data", "btcn.backtest"}
    for path in sorted((SRC / "cli").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                for name in names:
                    assert not any(name == h or name.startswith(h + ".") for h in heavy), (
                        path,
                        name,
                    )
