"""Fit the cascade's uncertain band on the calibration set's tuning half; measure it on the
held half; write `interviewer/judge/data/cascade_band.json` with its provenance.

    python -m benchmarks.fit_cascade            # fit, print, write
    python -m benchmarks.fit_cascade --check    # print only

The band is the narrowest (fewest answers sent) band of offline scores such that, of the
tuning half's answers outside it, at most 8% are off the human grade by more than 15 points.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from interviewer.bank.loader import load_bank, load_calibration
from interviewer.config import load_settings
from interviewer.judge import offline_judge
from interviewer.judge.cascade import BAND_FILE, figures, fit_band
from interviewer.judge.evaluate import evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print only, write nothing")
    parser.add_argument("--tolerance", type=float, default=15.0)
    parser.add_argument("--max-bad-share", type=float, default=0.08)
    args = parser.parse_args()

    bank = load_bank(load_settings().bank_dir)
    items = load_calibration(bank.root / "calibration", bank)
    judge = offline_judge()
    judge.learn_terms(list(bank.rubrics.values()))

    async def grade(qid: str, text: str):  # type: ignore[no-untyped-def]
        return await judge.agrade(bank.question(qid), bank.rubric(qid), text)

    report = asyncio.run(evaluate(bank, items, grade, judge.spec, half="all", repeats=1))
    pairs = {
        half: [(r.score, r.human) for r in report.results if r.half == half]
        for half in ("tune", "held")
    }
    band = fit_band(pairs["tune"], args.tolerance, args.max_bad_share)
    measured = {half: figures(band, rows).model_dump() for half, rows in pairs.items()}
    band.meta = {
        "fitted_on": "calibration set, tuning half (offline judge, one grade per answer)",
        "rule": f"fewest answers sent such that at most {args.max_bad_share:.0%} of those kept "
        f"are off the human grade by more than {args.tolerance:g} points",
        "judge_fingerprint": judge.fingerprint,
        "fitted_at": datetime.now(UTC).date().isoformat(),
        "figures": measured,
    }
    print(f"band {band}: offline scores in it go to the model")
    for half, got in measured.items():
        print(
            f"  {half}: {got['answers']} answers, {got['sent_share']:.0%} sent; kept answers "
            f"off by >{args.tolerance:g}: {got['kept_bad_share']:.1%} (MAE {got['kept_mae']:.1f})"
            f" vs offline alone {got['offline_bad_share']:.1%} (MAE {got['offline_mae']:.1f})"
        )
    if not args.check:
        BAND_FILE.write_text(band.model_dump_json(indent=2) + "\n", encoding="utf-8")
        print(f"wrote {BAND_FILE}")


if __name__ == "__main__":
    main()
