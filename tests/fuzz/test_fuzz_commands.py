"""Fuzz every command with malformed inputs (bounded and seeded; see cases.py for the checks).

``benchmarks/fuzz.py`` runs the same generators for longer and prints cases per command.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.cases import GENERATORS, run_case
from tests.fuzz.corpus import Corpus, build

EXAMPLES = 20  # per command: about 10 s for all of them


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def pristine(corpus: Corpus) -> dict[str, bytes]:
    return corpus.files()


@pytest.mark.parametrize("command", sorted(GENERATORS))
def test_malformed_inputs_get_one_line_and_a_documented_exit_code(
    command: str, corpus: Corpus, pristine: dict[str, bytes],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:  # fmt: skip
    seen: list[str] = []

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(st.randoms(use_true_random=False))
    def one(rng: random.Random) -> None:
        work = tmp_path_factory.mktemp("case")
        case = GENERATORS[command](rng, corpus, work)
        problems = run_case(case, work, corpus)
        seen.append(case.what)
        assert not problems, (case.argv, case.what, problems)

    one()
    assert len(seen) >= 5  # the generator really produced cases (hypothesis may stop early)
    assert corpus.files() == pristine, "a case changed the corpus"


def test_the_checks_catch_what_they_promise(corpus: Corpus, tmp_path: Path) -> None:
    """The harness itself: an internal error, bad JSON on stdout and a leftover are reported."""
    from tests.fuzz.cases import Case

    work = tmp_path / "w"
    work.mkdir()
    (work / ".btcn-run-x.new.1").mkdir()
    case = Case("schema", ["schema", "plan"], {3}, "harness check")
    problems = run_case(case, work, corpus)
    assert any("not plausible" in p for p in problems)
    assert any("temporary files left" in p for p in problems)
    bad_json = Case("monitor push", ["--version"], {0}, "not JSON")
    assert any("not strict JSON" in p for p in run_case(bad_json, tmp_path, corpus))
