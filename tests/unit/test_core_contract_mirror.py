"""The core's plain data and the plan contract hold the same fields in the same order (the stage
converts one into the other by name). The Literal types are written once, in the contracts, and
the core uses them; this pins the field lists the core dataclasses still repeat (see the issue 16
note: the core builds them positionally in hot code, so they stay dataclasses for now)."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest

import btcn
from btcn.contracts import plan as contract
from btcn.contracts.weights import LegWeight
from btcn.core import guardrails, intents, planner, treasury

PAIRS = [
    (planner.ThresholdDecision, contract.ThresholdInfo, {}),
    (planner.CooldownState, contract.CooldownInfo, {}),
    (guardrails.GuardrailCheck, contract.GuardrailResult, {}),
    (planner.LegState, LegWeight, {}),
    (intents.OrderIntent, contract.PlannedOrder, {}),
    (intents.Blocked, contract.BlockedOrder, {}),
    (intents.Dropped, contract.DroppedOrder, {}),
    # the JSON names are "from"/"to"; the core spells out which wallet
    (treasury.Transfer, contract.PlannedTransfer, {"from_wallet": "from_", "to_wallet": "to"}),
]


@pytest.mark.parametrize(
    ("core", "model", "renames"), PAIRS, ids=lambda x: getattr(x, "__name__", "")
)
def test_core_dataclass_and_contract_model_have_one_field_list(core, model, renames) -> None:
    core_fields = [renames.get(f.name, f.name) for f in dataclasses.fields(core)]
    assert core_fields == list(model.model_fields)
    hints = typing.get_type_hints(core)
    for f in dataclasses.fields(core):
        name = renames.get(f.name, f.name)
        want = model.model_fields[name].annotation
        if typing.get_origin(want) is typing.Literal:
            assert hints[f.name] == want, (core.__name__, f.name)


def literal_texts(root: Path) -> dict[tuple[str, ...], list[str]]:
    """Every ``Literal[...]`` written in the source, by its values (the ``kind`` and
    ``schema_version`` pins of the artefacts excluded: each artefact has its own)."""
    found: dict[tuple[str, ...], list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        pins = {
            id(n.annotation)
            for n in ast.walk(tree)
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            and n.target.id in ("kind", "schema_version")
        }  # fmt: skip
        for node in ast.walk(tree):
            if id(node) in pins or not isinstance(node, ast.Subscript):
                continue
            if not ast.unparse(node.value).endswith("Literal"):
                continue
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            values = tuple(sorted(repr(ast.literal_eval(e)) for e in elts))
            found.setdefault(values, []).append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_literal_is_written_twice() -> None:
    root = Path(btcn.__file__).parent
    found = literal_texts(root)
    assert found  # the scan sees them
    assert {values: where for values, where in found.items() if len(where) > 1} == {}


def test_the_literal_scan_finds_a_copy(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('from typing import Literal\nA = Literal["x", "y"]\n')
    (tmp_path / "b.py").write_text('import typing\nB = typing.Literal["y", "x"]\n')
    assert literal_texts(tmp_path) == {("'x'", "'y'"): ["a.py:2", "b.py:2"]}


def test_the_core_uses_the_contract_literals() -> None:
    assert treasury.Reason is contract.TransferReason and treasury.When is contract.TransferWhen
    assert planner.Status is contract.PlanStatus and planner.Trigger is contract.Trigger
    assert guardrails.Effect is contract.GuardrailEffect
