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


# --- import circles -----------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """btcn module -> the btcn modules it imports, counting every import: module level, inside a
    function and under ``TYPE_CHECKING`` alike (a lazy import hides a circle, it does not end it)."""
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_between_btcn_modules() -> None:
    graph = import_graph()
    assert cycles(graph) == []
    assert "btcn.sweep.result" in graph["btcn.sweep.html"]  # the graph sees TYPE_CHECKING imports


def test_sweep_package_never_imports_stages_or_cli() -> None:
    """``btcn.sweep`` sits below the stages: the stage passes it what it needs (the old circle
    ``stages/sweep.py`` <-> ``sweep/html.py`` came from the result type living in the stage)."""
    graph = import_graph()
    bad = {
        f"{mod}: {dep}"
        for mod, deps in graph.items()
        if mod.startswith("btcn.sweep")
        for dep in deps
        if dep.startswith(("btcn.stages", "btcn.cli"))
    }
    assert bad == set()
