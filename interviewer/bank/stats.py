"""Counts over the bank: per topic and difficulty, key points and the weight on what the
prompts ask, inventory coverage, calibration."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from interviewer.bank.bank import Bank, inventory_ids
from interviewer.bank.calibration import load_calibration
from interviewer.bank.schema import MIN_ASKED_SHARE


class InventoryCoverage(BaseModel):
    total: int
    covered: int
    missing: list[str]


class CalibrationCounts(BaseModel):
    questions: int
    answers: int
    tune_questions: int
    held_questions: int
    per_kind: dict[str, int]
    per_question: dict[str, int]


class KeyPointCounts(BaseModel):
    total: int
    asked: int  # role: asked
    titled: int  # with a title
    with_partial_if: int
    asked_share_mean: float  # mean over rubrics of the weight share on asked points
    min_asked_share: float  # the floor `bank lint` checks
    under_min_asked: list[str]  # rubrics whose asked share is under the floor


class BankStats(BaseModel):
    questions: int
    per_topic: dict[str, dict[int, int]]
    per_difficulty: dict[int, int]
    key_points: KeyPointCounts
    inventory: InventoryCoverage
    calibration: CalibrationCounts


def key_point_counts(bank: Bank) -> KeyPointCounts:
    rubrics = list(bank.rubrics.values())
    points = [kp for r in rubrics for kp in r.key_points]
    return KeyPointCounts(
        total=len(points),
        asked=sum(1 for kp in points if kp.role == "asked"),
        titled=sum(1 for kp in points if kp.title is not None),
        with_partial_if=sum(1 for kp in points if kp.partial_if is not None),
        asked_share_mean=sum(r.asked_share for r in rubrics) / len(rubrics) if rubrics else 0.0,
        min_asked_share=MIN_ASKED_SHARE,
        under_min_asked=sorted(r.question_id for r in rubrics if r.asked_share < MIN_ASKED_SHARE),
    )


def bank_stats(bank: Bank) -> BankStats:
    per_topic: dict[str, Counter[int]] = {}
    for q in bank.questions.values():
        per_topic.setdefault(q.topic, Counter())[q.difficulty] += 1
    covered = {i for q in bank.questions.values() for i in q.inventory_ids}
    known = inventory_ids()
    cal_dir = bank.root / "calibration"
    items = load_calibration(cal_dir, bank) if cal_dir.is_dir() else []
    kinds = Counter(a.kind for item in items for a in item.answers)
    return BankStats(
        questions=len(bank.questions),
        per_topic={t: dict(sorted(c.items())) for t, c in sorted(per_topic.items())},
        per_difficulty=dict(sorted(Counter(q.difficulty for q in bank.questions.values()).items())),
        key_points=key_point_counts(bank),
        inventory=InventoryCoverage(
            total=len(known), covered=len(covered & known), missing=sorted(known - covered)
        ),
        calibration=CalibrationCounts(
            questions=len(items),
            answers=sum(len(i.answers) for i in items),
            tune_questions=sum(1 for i in items if i.half == "tune"),
            held_questions=sum(1 for i in items if i.half == "held"),
            per_kind=dict(sorted(kinds.items())),
            per_question={i.question_id: len(i.answers) for i in items},
        ),
    )
