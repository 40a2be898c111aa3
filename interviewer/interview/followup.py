"""Follow-up decisions.

- After each answer, while a key point is missed or partial and the per-question limit
  allows, ask about the most important one not yet probed (highest weight; missed before
  partial). Prefer the bank's follow-up written for that key point.
- Stop probing when the candidate says they don't know, or is off-topic twice.

How verdicts across a question's answers combine is grading: `interviewer.judge.merge`.
"""

from __future__ import annotations

import re

from interviewer.bank.schema import FollowUp, KeyPoint, Question, Rubric
from interviewer.judge.schema import Grade

DONT_KNOW = re.compile(
    r"(不知道|不清楚|不太清楚|不了解|不太了解|没学过|不会|忘了|记不清|没有概念|不懂|"
    r"\bi don'?t know\b|\bno idea\b|\bnot sure\b|\bdon'?t remember\b|\bi'?m not familiar\b|"
    r"\bpass\b|\bskip\b)",
    re.IGNORECASE,
)
DONT_KNOW_MAX_CHARS = 40


def says_dont_know(answer: str) -> bool:
    """A short answer that only says the candidate does not know."""
    text = answer.strip()
    return len(text) <= DONT_KNOW_MAX_CHARS and bool(DONT_KNOW.search(text))


def next_probe(
    rubric: Rubric, merged: Grade, probed: list[str], written: set[str] | None = None
) -> KeyPoint | None:
    """The most important key point still missed or partial, not yet asked about.

    Key points the bank has a written follow-up for come first (`written`), then weight,
    then missed before partial, then rubric order.
    """
    written = written or set()
    open_points = [
        kp
        for kp in rubric.key_points
        if kp.id not in probed and merged.verdict(kp.id).verdict != "covered"
    ]
    if not open_points:
        return None
    return max(
        open_points,
        key=lambda kp: (
            kp.id in written,
            kp.weight,
            merged.verdict(kp.id).verdict == "missed",
            -rubric.key_points.index(kp),
        ),
    )


def follow_up_for(question: Question, key_point: str) -> FollowUp | None:
    for fu in question.follow_ups:
        if fu.probes == key_point:
            return fu
    return None
