"""Do two versions of the offline judge grade alike? Grade the benchmark's generated rows in
worker processes, as `interviewer grade` does, and write each result without `judge`; then
compare two such files field by field.

    PYTHONPATH=/path/to/version python benchmarks/same_grades.py dump OUT.jsonl [--rows 1200]
    python benchmarks/same_grades.py compare A.jsonl B.jsonl

Run as a file (not `-m`), so that PYTHONPATH alone chooses the version graded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path


def dump(out: Path, rows: int) -> None:
    from benchmarks.batch import generated_rows, terms_of
    from interviewer.bank.loader import load_bank
    from interviewer.batch.resolve import Resolver
    from interviewer.batch.runner import OfflinePool, distinct_rubrics, plan, run
    from interviewer.judge import offline_judge

    bank = load_bank()
    jobs, errors = plan(
        list(generated_rows(rows)), Resolver(bank, offline_judge().encoder), "offline"
    )
    assert not errors
    pool = OfflinePool(terms_of(bank), rubrics=distinct_rubrics(jobs))
    results = asyncio.run(run(jobs, pool.grade, cache=None, concurrency=pool.concurrency))
    pool.close()
    with out.open("w", encoding="utf-8") as f:
        for index in sorted(results):
            f.write(json.dumps(results[index].model_dump(exclude={"judge"}), ensure_ascii=False))
            f.write("\n")
    print(f"{len(results)} results written to {out}")


def compare(a: Path, b: Path) -> int:
    left = a.read_text(encoding="utf-8").splitlines()
    right = b.read_text(encoding="utf-8").splitlines()
    differ = 0
    for n, (x, y) in enumerate(zip(left, right, strict=False), 1):
        if x != y:
            differ += 1
            if differ <= 5:
                print(f"row {n} differs:\n  {x[:300]}\n  {y[:300]}")
    if len(left) != len(right):
        print(f"{a} has {len(left)} rows, {b} has {len(right)}")
        differ += 1
    print(f"{len(left)} rows compared, {differ} differ")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--rows", type=int, default=1200)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.rows)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
