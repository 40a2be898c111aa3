"""How often the cascade agrees with the full LLM judge, on the calibration set's held half.

    python -m benchmarks.cascade_agreement [--limit 60] [--base-url URL --model NAME]

Every chosen answer is graded twice: offline, and by the LLM judge alone (every answer
sent). The cascade's grade is the LLM's where the offline score is in the fitted band
(`judge/data/cascade_band.json`) and the offline grade elsewhere, so it is computed from
those two without a third run. Printed beside it, measured in the same run: the offline
judge alone against the same LLM grades (the naive answer to "why not skip the model").

Without --base-url, a local llama.cpp server (tests/support/llama_server.py, SmolLM2-135M
from a PyPI wheel) is started on loopback. A 135M model grades badly, so the figure says
how much of the full judge's behaviour the cascade keeps, not how good either judge is.
Answers on which the LLM judge fell back to the offline grade are left out and counted.
`--limit N` takes every k-th answer of the held half so that N are graded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from interviewer.bank.calibration import load_calibration
from interviewer.bank.loader import load_bank
from interviewer.config import JudgeSpec, load_settings
from interviewer.judge import make_judge, offline_judge
from interviewer.judge.cascade import fitted_band
from interviewer.judge.llm import LLMJudge
from tests.support.llama_server import running

TOLERANCE = 15.0


def agreement(a: list[float], b: list[float]) -> str:
    within = sum(1 for x, y in zip(a, b, strict=True) if abs(x - y) <= TOLERANCE) / len(a)
    mae = statistics.fmean(abs(x - y) for x, y in zip(a, b, strict=True))
    if len(set(a)) > 1 and len(set(b)) > 1:
        r = f"Pearson {statistics.correlation(a, b):.2f}"
    else:
        r = "no Pearson (one side gave every answer the same score)"
    return f"within {TOLERANCE:g} points {within:.0%}, MAE {mae:.1f}, {r}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60, help="answers to grade (0: all)")
    parser.add_argument("--base-url", help="an OpenAI-compatible server; default: local")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()

    bank = load_bank(load_settings().bank_dir)
    items = load_calibration(bank.root / "calibration", bank)
    answers = [(i.question_id, a) for i in items if i.half == "held" for a in i.answers]
    if args.limit and args.limit < len(answers):
        step = len(answers) / args.limit
        answers = [answers[int(k * step)] for k in range(args.limit)]
    band = fitted_band()
    offline = offline_judge()
    offline.learn_terms(list(bank.rubrics.values()))
    off = [offline.grade(bank.question(q), bank.rubric(q), a.text).score for q, a in answers]

    with (
        TemporaryDirectory() as tmp,
        running() if not args.base_url else _given(args.base_url) as url,
    ):
        settings = load_settings(
            openai_base_url=url,
            data_dir=Path(tmp),
            timeout=args.timeout,
            deadline=args.timeout,
            breaker_timeouts=1000,
        )
        judge = make_judge(JudgeSpec.parse(f"compatible:{args.model}"), settings)
        assert isinstance(judge, LLMJudge)
        gate = asyncio.Semaphore(args.concurrency)
        done = 0
        started = time.perf_counter()

        async def one(q: str, text: str) -> tuple[float, bool]:
            nonlocal done
            async with gate:
                grade = await judge.agrade(bank.question(q), bank.rubric(q), text)
            done += 1
            print(f"\r  LLM judge: {done}/{len(answers)} graded", end="", file=sys.stderr)
            return grade.score, "judge_fallback" in grade.flags

        async def everything() -> list[tuple[float, bool]]:
            return await asyncio.gather(*(one(q, a.text) for q, a in answers))

        llm = asyncio.run(everything())
        print(file=sys.stderr)
        elapsed = time.perf_counter() - started

    keep = [k for k, (_, fell_back) in enumerate(llm) if not fell_back]
    human = [answers[k][1].human_score for k in keep]
    full = [llm[k][0] for k in keep]
    alone = [off[k] for k in keep]
    cascade = [llm[k][0] if band.uncertain(off[k]) else off[k] for k in keep]
    sent = sum(1 for k in keep if band.uncertain(off[k]))
    print(
        f"{len(answers)} held-half answers, LLM judge compatible:{args.model} in {elapsed:.0f} s; "
        f"{len(answers) - len(keep)} fell back to the offline grade and are left out"
    )
    if len(keep) < 3:
        print("too few answers graded by the model to compare")
        return
    print(f"band {band}: {sent} of {len(keep)} answers sent to the model ({sent / len(keep):.0%})")
    print(f"full LLM judge's scores: {sorted(set(full))}" if len(set(full)) <= 5 else "")
    print(f"cascade vs full LLM judge:       {agreement(cascade, full)}")
    print(f"offline alone vs full LLM judge: {agreement(alone, full)}  (baseline)")
    print(f"vs the human grades: full LLM {agreement(full, human)}")
    print(f"                     cascade  {agreement(cascade, human)}")
    print(f"                     offline  {agreement(alone, human)}")


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
