"""The score is ours: weights and verdicts in, 0-100 out."""

from __future__ import annotations

from collections.abc import Iterable

from interviewer.bank.schema import Rubric
from interviewer.judge.schema import MisconceptionFound, Verdict


def score(
    rubric: Rubric, verdicts: Iterable[Verdict], found: Iterable[MisconceptionFound]
) -> float:
    """Weighted share of key points, minus penalties, floored at 0. A point earns its
    verdict's credit (partial counts half), or the finer credit its judge gave."""
    by_id = {v.key_point: v for v in verdicts}
    total = rubric.total_weight
    earned = sum(kp.weight * by_id[kp.id].earned for kp in rubric.key_points if kp.id in by_id)
    penalty = sum(m.penalty for m in found)
    raw = 100.0 * earned / total - penalty if total > 0 else 0.0
    return round(min(100.0, max(0.0, raw)), 2)
