"""Misconceptions charged only when asserted: the contrast set (calibration/contrast/).

For every misconception in the bank the set has a sentence that states it and a correct
sentence worded close to it (a refutation, the true fact with roles or direction swapped,
or a true statement in the claim's words), in Chinese and English. Each sentence is graded
as an answer to its question by the offline judge:

- recall: the share of stating sentences charged with their misconception;
- near misses kept: the share of correct near misses charged with nothing.

It also grades the calibration set's answers, whose graders marked the misconceptions each
one states: of the misconceptions the judge finds there, the share the graders marked
(precision; a strong answer charged with a claim it rejects is the error a candidate
trusts least), and of those marked, the share found.

Each figure is given per half: a question's half is its calibration item's half (a
question without one takes the half its id hashes to), so the misconception threshold can
be chosen on the tuning half (`--similarity`) and reported on the held one.

    python -m benchmarks.contrast
    python -m benchmarks.contrast --similarity 0.7
"""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ruamel.yaml import YAML

from interviewer.bank.bank import Bank
from interviewer.bank.calibration import load_calibration
from interviewer.bank.loader import load_bank
from interviewer.judge import offline_judge
from interviewer.judge.offline import OfflineJudge

ROOT = Path(__file__).resolve().parents[1]


def half_of(bank: Bank) -> Callable[[str], str]:
    """A question's half: its calibration item's, else the half its id hashes to."""
    halves = {i.question_id: i.half for i in load_calibration(bank.root / "calibration", bank)}

    def half(qid: str) -> str:
        digest = int(hashlib.sha256(qid.encode()).hexdigest(), 16)
        return halves.get(qid) or ("tune" if digest % 2 else "held")

    return half


def measure(
    judge: OfflineJudge, bank: Bank, halves: tuple[str, ...] = ("tune", "held")
) -> Counter[tuple[str, str]]:
    """Counts per half: stated / charged, near / kept, and near and kept per kind."""
    half = half_of(bank)
    yaml = YAML(typ="safe")
    count: Counter[tuple[str, str]] = Counter()
    for path in sorted((ROOT / "calibration" / "contrast").glob("*.yaml")):
        for entry in yaml.load(path.read_text(encoding="utf-8")) or []:
            qid, mid = entry["question_id"], entry["misconception"]
            q, r = bank.question(qid), bank.rubric(qid)
            h, kind = half(qid), entry["near_miss"]["kind"]
            if h not in halves:
                continue
            for lang in ("zh", "en"):
                found = {m.id for m in judge.grade(q, r, entry["states"][lang]).misconceptions}
                count[(h, "stated")] += 1
                count[(h, "charged")] += mid in found
                wrong = judge.grade(q, r, entry["near_miss"][lang]).misconceptions
                count[(h, "near")] += 1
                count[(h, "kept")] += not wrong
                count[(h, f"near {kind}")] += 1
                count[(h, f"kept {kind}")] += not wrong
    return count


def calibration_charges(
    judge: OfflineJudge, bank: Bank, halves: tuple[str, ...] = ("tune", "held")
) -> Counter[tuple[str, str]]:
    """Counts per half of the calibration set's answers: misconceptions the graders marked
    ("marked"), those the judge found ("found"), and found ones that were marked ("right")."""
    count: Counter[tuple[str, str]] = Counter()
    for item in load_calibration(bank.root / "calibration", bank):
        if item.half not in halves:
            continue
        q, r = bank.question(item.question_id), bank.rubric(item.question_id)
        for answer in item.answers:
            marked = set(answer.misconceptions)
            found = {m.id for m in judge.grade(q, r, answer.text).misconceptions}
            count[(item.half, "marked")] += len(marked)
            count[(item.half, "found")] += len(found)
            count[(item.half, "right")] += len(marked & found)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--similarity", type=float, default=None, help="threshold to try")
    parser.add_argument("--margin", type=float, default=None, help="margin to try")
    parser.add_argument("--denial-lead", type=float, default=None, help="denial lead to try")
    parser.add_argument(
        "--unshared-similarity", type=float, default=None, help="unshared-word bar to try"
    )
    args = parser.parse_args()
    bank = load_bank(None)
    judge = offline_judge()
    if args.similarity is not None:
        judge.model = replace(judge.model, misconception_similarity=args.similarity)
    if args.margin is not None:
        judge.model = replace(judge.model, misconception_margin=args.margin)
    if args.denial_lead is not None:
        judge.model = replace(judge.model, misconception_denial_lead=args.denial_lead)
    if args.unshared_similarity is not None:
        judge.model = replace(
            judge.model, misconception_unshared_similarity=args.unshared_similarity
        )
    judge.learn_terms(list(bank.rubrics.values()))
    count = measure(judge, bank)
    charges = calibration_charges(judge, bank)
    print(
        f"misconception similarity threshold {judge.model.misconception_similarity}, "
        f"margin {judge.model.misconception_margin}, "
        f"denial lead {judge.model.misconception_denial_lead}, "
        f"unshared-word similarity {judge.model.misconception_unshared_similarity}"
    )
    for h in ("tune", "held"):
        stated, charged = count[(h, "stated")], count[(h, "charged")]
        near, kept = count[(h, "near")], count[(h, "kept")]
        print(
            f"{h}: stated misconceptions charged {charged}/{stated} = {charged / stated:.1%}; "
            f"correct near misses not charged {kept}/{near} = {kept / near:.1%}"
        )
        for kind in ("refute", "swap", "related"):
            print(f"  {kind:8} {count[(h, f'kept {kind}')]}/{count[(h, f'near {kind}')]} kept")
        right, found, marked = (charges[(h, k)] for k in ("right", "found", "marked"))
        print(
            f"  calibration answers: found {found} misconceptions, {right} of them marked by "
            f"the graders (precision {right / max(found, 1):.1%}); "
            f"{right}/{marked} marked found (recall {right / max(marked, 1):.1%})"
        )


if __name__ == "__main__":
    main()
