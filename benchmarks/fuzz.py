"""Run the fuzz suite's generators (tests/fuzz/cases.py) longer and print cases per command.

Every case is checked as in the test suite: no traceback or internal error, a documented and
plausible exit code, stdout empty or strict JSON, no temporary file left, no existing file changed
by a failing command, and the corpus never changed. Figures only; no timing is asserted.

Usage::

    .venv/bin/python benchmarks/fuzz.py --cases 200 --seed 20261202
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz.cases import GENERATORS, new_work, run_case  # noqa: E402
from tests.fuzz.corpus import build  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=200, help="cases per command")
    ap.add_argument("--seed", type=int, default=20261202)
    args = ap.parse_args()
    for name in list(os.environ):
        if name.startswith(("BTCN_", "GATE_")):
            del os.environ[name]
    started = time.monotonic()
    figures: dict[str, dict[str, object]] = {}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="btcn-fuzz-") as tmp:
        base = Path(tmp)
        os.chdir(base)
        corpus = build(base / "corpus")
        pristine = corpus.files()
        n = 0
        for command, generate in GENERATORS.items():
            t0 = time.monotonic()
            codes: Counter[int] = Counter()
            bad = 0
            for i in range(args.cases):
                rng = random.Random(zlib.crc32(f"{args.seed}:{command}:{i}".encode()))
                work = new_work(base / "cases", n)
                n += 1
                case = generate(rng, corpus, work)
                problems = run_case(case, work, corpus)
                codes[case.exit_code if case.exit_code is not None else -1] += 1
                if problems:
                    bad += 1
                    failures.append(f"{command}: {case.what}: {problems}")
            figures[command] = {"cases": args.cases, "failures": bad,
                                "seconds": round(time.monotonic() - t0, 1)}  # fmt: skip
            exits = " ".join(f"{c}:{k}" for c, k in sorted(codes.items()))
            print(f"{command:<15} {args.cases:>5} cases  {bad} failures  "
                  f"{figures[command]['seconds']:>6.1f} s  exits {exits}", flush=True)  # fmt: skip
        if corpus.files() != pristine:
            failures.append("the corpus was changed")
    total = sum(int(f["cases"]) for f in figures.values())  # type: ignore[call-overload]
    summary = {"seed": args.seed, "commands": len(figures), "cases": total,
               "failures": len(failures), "wall_time_s": round(time.monotonic() - started, 1)}  # fmt: skip
    for line in failures[:50]:
        print("FAIL", line)
    print(json.dumps(summary, indent=2))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
