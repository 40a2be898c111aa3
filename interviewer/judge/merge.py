"""How verdicts across a question's answers combine into one grade.

The best verdict for a key point across the main answer and its follow-ups wins. A key
point whose hint was shown can earn at most `partial`. Used by the interview (after each
answer) and by regrading a saved transcript.
"""

from __future__ import annotations

from typing import Any

from interviewer.bank.schema import Rubric
from interviewer.judge.schema import CREDIT, ORDER, Grade, MisconceptionFound, Verdict
from interviewer.judge.scoring import score


def merge(rubric: Rubric, grades: list[Grade], hinted: list[str], judge: str) -> Grade:
    """One grade for the question: the best verdict per key point across all answers."""
    best: dict[str, Verdict] = {}
    for grade in grades:
        for v in grade.verdicts:
            old = best.get(v.key_point)
            if old is None or (ORDER[v.verdict], v.earned) > (ORDER[old.verdict], old.earned):
                best[v.key_point] = v
    verdicts = []
    for kp in rubric.key_points:
        v = best.get(kp.id, Verdict(key_point=kp.id, verdict="missed"))
        if kp.id in hinted and v.verdict == "covered":
            v = v.model_copy(
                update={
                    "verdict": "partial",
                    "reason": f"hint shown; {v.reason}",
                    "credit": None if v.credit is None else min(v.credit, CREDIT["partial"]),
                }
            )
        verdicts.append(v)
    found: dict[str, MisconceptionFound] = {}
    flags: list[Any] = []
    for grade in grades:
        for m in grade.misconceptions:
            found.setdefault(m.id, m)
        flags += [f for f in grade.flags if f not in flags]
    if hinted and "hint_used" not in flags:
        flags.append("hint_used")
    misconceptions = list(found.values())
    return Grade(
        verdicts=verdicts,
        misconceptions=misconceptions,
        flags=flags,
        score=score(rubric, verdicts, misconceptions),
        judge=judge,
    )
