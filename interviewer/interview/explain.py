"""The reference answer on demand (Ctrl+E in the TUI, /explain in plain mode): key point by
key point, each with its title and statement, marking what the candidate missed.

Only for a question already graded: the one in progress once it has an answer, else the
last finished one. In exam mode, only once the interview has ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from interviewer.bank.bank import Bank
from interviewer.interview.standing import Standing, running
from interviewer.judge import progress
from interviewer.judge.schema import Grade, VerdictLabel
from interviewer.transcript.marks import Mark
from interviewer.transcript.schema import Turn

NOT_YET = {
    "zh": "先回答这道题，评分之后才能看参考答案。",
    "en": "Answer the question first: the reference is shown once it is graded.",
}
EXAM = {
    "zh": "考试模式下，参考答案在面试结束后才显示。",
    "en": "In exam mode the reference is shown when the interview ends.",
}


@dataclass(frozen=True)
class Point:
    key_point: str
    title: str
    text: str
    verdict: VerdictLabel


@dataclass(frozen=True)
class Explanation:
    question_id: str
    prompt: str
    points: list[Point]


def graded(standing: Standing, bank: Bank) -> tuple[str, Grade] | None:
    """The question to explain and its running grade; None when nothing is graded yet."""
    question = standing.last_graded
    if question is None:
        return None
    if isinstance(question, Turn):
        return question.question_id, question.merged
    step = running(bank.rubric(question.question_id), question)
    assert step is not None
    return question.question_id, step.merged


def explain(standing: Standing, bank: Bank, lang: str, mode: str) -> Explanation | str:
    """The explanation, or why there is none yet (a sentence to show)."""
    if mode == "exam" and not standing.done:
        return EXAM["zh" if lang == "zh" else "en"]
    found = graded(standing, bank)
    if found is None:
        return NOT_YET["zh" if lang == "zh" else "en"]
    qid, grade = found
    rubric = bank.rubric(qid)
    points = [
        Point(kp.id, progress.title(kp, lang), kp.text.get(lang), grade.verdict(kp.id).verdict)
        for kp in rubric.key_points
    ]
    return Explanation(qid, bank.question(qid).prompt.get(lang), points)


def render_text(found: Explanation | str, lang: str) -> str:
    """For plain mode."""
    if isinstance(found, str):
        return found
    zh = lang == "zh"
    out = [
        ("参考答案（逐个要点）: " if zh else "Reference, key point by key point: ") + found.prompt
    ]
    for p in found.points:
        tag = ""
        if p.verdict != "covered":
            tag = (
                ("  ← 你漏了" if zh else "  <- you missed this")
                if p.verdict == "missed"
                else ("  ← 只答到一部分" if zh else "  <- partly covered")
            )
        out.append(f"{Mark(p.verdict).glyph} {p.title}{tag}")
        out.append(f"    {p.text}")
    return "\n".join(out)
