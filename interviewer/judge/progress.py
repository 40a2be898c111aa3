"""A question's running grade: after each answer, what the question has earned so far and
what that answer added.

One rule everywhere (the TUI's panel, the grade note in the log and in plain mode, the
report, exports and review): the question's grade after an answer is `followup.merge` of
every answer so far (best verdict per key point, hint caps applied). What an answer added
is the key points whose combined verdict rose with it, and the change in the combined
score. An answer's own grade ("this answer alone") is never shown as the question's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from interviewer.bank.schema import KeyPoint, Rubric
from interviewer.judge.merge import merge
from interviewer.judge.schema import ORDER, Grade


@dataclass(frozen=True)
class Step:
    """The question after one answer."""

    merged: Grade  # every answer so far, combined
    gained: tuple[str, ...]  # key points whose combined verdict rose with this answer
    delta: float  # the combined score's change (the first answer: its score)

    @property
    def score(self) -> float:
        return self.merged.score

    def added(self, lang: str) -> str:
        """What this answer added, e.g. "+2 key points, +15" ("+2 个要点，+15")."""
        n = len(self.gained)
        points = f"+{n} 个要点" if lang == "zh" else f"+{n} key point{'s' if n != 1 else ''}"
        sep = "，" if lang == "zh" else ", "
        return f"{points}{sep}{self.delta:+.0f}"


def running(
    rubric: Rubric, grades: Sequence[Grade], hinted: Sequence[str], judge: str
) -> list[Step]:
    """One Step per answer, in order."""
    steps: list[Step] = []
    before: Grade | None = None
    for i in range(len(grades)):
        now = merge(rubric, list(grades[: i + 1]), list(hinted), judge)
        gained = tuple(
            kp.id
            for kp in rubric.key_points
            if ORDER[now.verdict(kp.id).verdict]
            > (ORDER[before.verdict(kp.id).verdict] if before is not None else 0)
        )
        delta = now.score - (before.score if before is not None else 0.0)
        steps.append(Step(merged=now, gained=gained, delta=delta))
        before = now
    return steps


def latest(
    rubric: Rubric, grades: Sequence[Grade], hinted: Sequence[str], judge: str
) -> Step | None:
    """The question as it stands after its last answer; None before any."""
    steps = running(rubric, grades, hinted, judge)
    return steps[-1] if steps else None


TITLE_CHARS = {"zh": 14, "en": 40}


def title(kp: KeyPoint, lang: str) -> str:
    """A key point's short title in `lang`: the rubric's `title`, else the start of its
    text (its first clause, cut at a word) for rubrics written before titles."""
    if kp.title is not None:
        return kp.title.get(lang)
    text = kp.text.get(lang).strip()
    first = re.split(r"[，。；：,;:.(（]", text, maxsplit=1)[0].strip() or text
    limit = TITLE_CHARS.get(lang, 40)
    if len(first) <= limit:
        return first
    cut = first[:limit]
    if lang != "zh" and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"
