from __future__ import annotations

from pathlib import Path

import pytest

from btcn.data.funding import load_funding
from btcn.errors import InvalidInputError


@pytest.mark.parametrize("rate", ["999999999999999999999999999999", "-1.5", "2"])
def test_an_implausible_funding_rate_is_refused(tmp_path: Path, rate: str) -> None:
    f = tmp_path / "f.csv"
    f.write_text(f"fundingTime,fundingRate,markPrice\n1735689600000,{rate},\n")
    with pytest.raises(InvalidInputError, match="not plausible"):
        load_funding(f)


def test_a_large_but_possible_rate_is_read(tmp_path: Path) -> None:
    f = tmp_path / "f.csv"
    f.write_text("fundingTime,fundingRate,markPrice\n1735689600000,0.03,\n")
    assert float(load_funding(f).rate[0]) == 0.03
