"""List every user-facing error message template of btcn (the tests check the manual covers them).

A template is the message of a ``raise <BtcnError subclass>(...)`` with each formatted value
replaced by ``…``. Usage: .venv/bin/python scripts/error_inventory.py
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "btcn"


def error_classes() -> set[str]:
    sys.path.insert(0, str(SRC.parent))
    import importlib
    import pkgutil

    import btcn
    from btcn.errors import BtcnError

    for mod in pkgutil.walk_packages(btcn.__path__, "btcn."):
        if mod.name.startswith("btcn.cli") or mod.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(mod.name)
        except Exception:
            continue
    names: set[str] = set()
    stack = [BtcnError]
    while stack:
        cls = stack.pop()
        names.add(cls.__name__)
        stack.extend(cls.__subclasses__())
    return names


def template(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            else:
                parts.append("…")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = template(node.left), template(node.right)
        return None if a is None or b is None else a + b
    return "…"


def messages() -> list[tuple[str, int, str, str]]:
    classes = error_classes()
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else ""
                )
                if name in classes and node.exc.args:
                    text = template(node.exc.args[0])
                    if text:
                        found.append((str(path.relative_to(SRC)), node.lineno, name, text))
    return found


def key_phrase(text: str) -> str:
    """The longest literal run of a template: the phrase the manual must contain."""
    runs = [r.strip(" :;,.'\"()[]") for r in text.split("…")]
    return max(runs, key=len)


if __name__ == "__main__":
    for path, line, cls, text in messages():
        print(f"{path}:{line} {cls}: {text}   [{key_phrase(text)}]")
    _ = inspect
