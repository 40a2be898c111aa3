"""One reviewed answer as every renderer shows it: a question's answers cut into plain and
highlighted runs, and a verdict row per key point.

`turn_view` builds a `TurnView` once from the transcript's models (and the bank, for key
point statements in the transcript's language); the Markdown and HTML exports, `review
show` (Rich) and the TUI's replay only format it. A quote is looked up in one place
(`find`): verbatim, else with the judges' own `locate`, so a quote the judge verified
after normalising it is never shown as "not found".

Verdicts are shown with the one set of marks in `interviewer.transcript.marks`.
"""

from __future__ import annotations

import itertools

from pydantic import BaseModel, Field

from interviewer.bank.bank import Bank
from interviewer.judge import progress
from interviewer.judge.prepared import PreparedAnswer
from interviewer.judge.schema import MisconceptionFound
from interviewer.transcript.marks import Mark
from interviewer.transcript.review import base_grade, turn_score
from interviewer.transcript.schema import Attempt, Current, Override, Regrade, Turn


class Cite(BaseModel):
    """What a quote is evidence of: a key point's verdict, or a misconception."""

    key_point: str | None = None
    mark: Mark | None = None
    misconception: str | None = None

    @property
    def label(self) -> str:
        if self.misconception is not None:
            return f"misconception {self.misconception}"
        return f"{self.key_point}: {self.mark}"


class Evidence(BaseModel):
    """A quote a verdict (or misconception) relies on, and where it is in the answer."""

    quote: str
    cite: Cite
    span: tuple[int, int] | None = Field(None, description="Start and end in the answer.")
    attempt: int | None = Field(None, description="The answer it is in (from 1), if found.")

    @property
    def found(self) -> bool:
        return self.span is not None


class Run(BaseModel):
    """A stretch of an answer: plain text (no cites), or evidence of what `cites` name."""

    text: str
    cites: list[Cite] = Field(default_factory=list)

    @property
    def misconception(self) -> bool:
        return any(c.misconception is not None for c in self.cites)

    @property
    def strongest(self) -> Mark | None:
        """The best verdict this stretch is evidence of (None: only misconceptions)."""
        marks = [c.mark for c in self.cites if c.mark is not None]
        return max(marks, key=lambda m: m.rank) if marks else None

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.cites]


class AttemptView(BaseModel):
    """One answer: its words cut into runs, the quotes not found in it, and its grade."""

    number: int
    prompt: str
    probes: str | None
    answer: str
    at: str
    score: float
    judge: str
    flags: list[str]
    runs: list[Run]
    missing: list[Evidence] = Field(description="Quotes of this answer's grade not in it.")
    step: progress.Step | None = Field(
        None, description="The question after this answer (None without the rubric)."
    )


class VerdictRow(BaseModel):
    """One key point: the judges' verdict, a reviewer's (the newest override), and the
    judges' quote located in the answers."""

    key_point: str
    title: str = Field(description="Short title in the transcript's language ('' without).")
    statement: str = Field(description="The key point's text in that language ('' without).")
    judge: Mark
    credit: float = Field(description="Share of the point's weight the judges gave.")
    reviewer: Mark | None = None
    note: str = ""
    evidence: Evidence | None = None

    @property
    def mark(self) -> Mark:
        """What counts: the reviewer's verdict, else the judges'."""
        return self.reviewer or self.judge

    @property
    def overridden(self) -> bool:
        return self.reviewer is not None and self.reviewer != self.judge


class TurnView(BaseModel):
    """A question as reviewed: what was asked, every answer, and the verdict rows."""

    number: int
    question_id: str
    topic: str
    difficulty: int
    asked: str = Field(description="The question as shown ('' if not recorded).")
    prompt: str = Field(description="The bank's prompt in the transcript's language, or ''.")
    attempts: list[AttemptView]
    finished: bool = Field(description="False for the question in progress.")
    judge: str = ""
    rows: list[VerdictRow] = Field(default_factory=list)
    misconceptions: list[MisconceptionFound] = Field(default_factory=list)
    hinted: list[str] = Field(default_factory=list)
    skipped: bool = False
    score: float = Field(0.0, description="Overrides applied, when the rubric allows.")
    live_score: float = Field(0.0, description="As graded during the interview.")
    overrides: list[Override] = Field(default_factory=list)
    regrades: list[Regrade] = Field(default_factory=list)

    @property
    def question(self) -> str:
        """The question as asked, else the bank's prompt."""
        return self.asked or self.prompt


# --- building ---------------------------------------------------------------------------


def find(quote: str, answer: str) -> tuple[int, int] | None:
    """Where `quote` is in `answer` (the one place a quote is looked for).

    Verbatim, it is shown as quoted, its punctuation included; otherwise where the judges'
    own evidence check found it (after normalising width, case, spaces, punctuation and
    invisible characters, on the prepared answer), mapped back to the candidate's own
    words, so a verified quote is never shown as "not found".
    """
    return PreparedAnswer.of(answer).locate(quote)


def evidence_of(attempt: Attempt) -> list[Evidence]:
    """Every quote of the attempt's grade (verdicts, then misconceptions), located."""
    grade = attempt.grade
    cites = [
        (v.evidence, Cite(key_point=v.key_point, mark=Mark(v.verdict))) for v in grade.verdicts
    ]
    cites += [(m.evidence, Cite(misconception=m.id)) for m in grade.misconceptions]
    return [
        Evidence(quote=quote, cite=cite, span=find(quote, attempt.answer))
        for quote, cite in cites
        if quote.strip()
    ]


def runs_of(answer: str, found: list[Evidence]) -> list[Run]:
    """The answer cut at every quote's ends; neighbours citing the same things are joined."""
    spans = [(e.span, e.cite) for e in found if e.span is not None]
    cuts = sorted({0, len(answer), *(s[0] for s, _ in spans), *(s[1] for s, _ in spans)})
    out: list[Run] = []
    for a, b in itertools.pairwise(cuts):
        cites: list[Cite] = []
        for (start, end), cite in spans:
            if start <= a and b <= end and cite not in cites:
                cites.append(cite)
        if out and out[-1].cites == cites:
            out[-1] = Run(text=out[-1].text + answer[a:b], cites=cites)
        else:
            out.append(Run(text=answer[a:b], cites=cites))
    return out


def attempt_view(number: int, attempt: Attempt, step: progress.Step | None) -> AttemptView:
    found = evidence_of(attempt)
    g = attempt.grade
    return AttemptView(
        number=number,
        prompt=attempt.prompt,
        probes=attempt.probes,
        answer=attempt.answer,
        at=attempt.at,
        score=g.score,
        judge=g.judge,
        flags=list(g.flags),
        runs=runs_of(attempt.answer, found),
        missing=[e for e in found if not e.found],
        step=step,
    )


def turn_view(number: int, turn: Turn | Current, lang: str, bank: Bank | None) -> TurnView:
    """The view of a finished question (`Turn`) or the one in progress (`Current`)."""
    rubric = bank.rubrics.get(turn.question_id) if bank else None
    question = bank.questions.get(turn.question_id) if bank else None
    steps: list[progress.Step | None] = [None] * len(turn.attempts)
    if rubric is not None:
        grades = [a.grade for a in turn.attempts]
        steps = list(progress.running(rubric, grades, list(turn.hinted), ""))
    view = TurnView(
        number=number,
        question_id=turn.question_id,
        topic=turn.topic,
        difficulty=turn.difficulty,
        asked=next((m.text for m in turn.shown if m.kind == "question"), ""),
        prompt=question.prompt.get(lang) if question else "",
        attempts=[
            attempt_view(i, a, s)
            for i, (a, s) in enumerate(zip(turn.attempts, steps, strict=True), start=1)
        ],
        finished=isinstance(turn, Turn),
        hinted=list(turn.hinted),
    )
    if not isinstance(turn, Turn):
        return view
    grade = base_grade(turn)
    texts = {kp.id: kp for kp in rubric.key_points} if rubric else {}
    reviewed = {o.key_point: o for o in turn.overrides}  # the newest wins
    rows = []
    for v in grade.verdicts:
        kp = texts.get(v.key_point)
        human = reviewed.get(v.key_point)
        rows.append(
            VerdictRow(
                key_point=v.key_point,
                title=progress.title(kp, lang) if kp else "",
                statement=kp.text.get(lang) if kp else "",
                judge=Mark(v.verdict),
                credit=v.earned,
                reviewer=Mark(human.verdict) if human else None,
                note=human.note if human else "",
                evidence=_located(v.evidence, Mark(v.verdict), v.key_point, turn.attempts),
            )
        )
    return view.model_copy(
        update={
            "judge": grade.judge,
            "rows": rows,
            "misconceptions": list(grade.misconceptions),
            "skipped": turn.skipped,
            "score": turn_score(turn, bank),
            "live_score": turn.score,
            "overrides": list(turn.overrides),
            "regrades": list(turn.regrades),
        }
    )


def _located(quote: str, verdict: Mark, key_point: str, attempts: list[Attempt]) -> Evidence | None:
    """A merged verdict's quote, found in the first answer that holds it."""
    if not quote.strip():
        return None
    cite = Cite(key_point=key_point, mark=verdict)
    for i, a in enumerate(attempts, start=1):
        span = find(quote, a.answer)
        if span is not None:
            return Evidence(quote=quote, cite=cite, span=span, attempt=i)
    return Evidence(quote=quote, cite=cite)
