"""Reviewing saved interviews: list them, apply human overrides, regrade, compare judges.

The CLI (`interviewer review`) and the TUI call these same functions.

What counts for a key point, newest first: a reviewer's override, else the newest
regrade's merged verdict, else the verdict graded live. Scores are always recomputed from
those verdicts and the rubric's weights by `interviewer.judge.scoring`.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from interviewer.bank.bank import Bank
from interviewer.bank.schema import Question, Rubric
from interviewer.errors import InterviewerError
from interviewer.judge import Judge
from interviewer.judge.merge import merge
from interviewer.judge.schema import Grade, Verdict, VerdictLabel
from interviewer.judge.scoring import score
from interviewer.transcript.clock import now
from interviewer.transcript.schema import Override, Regrade, Transcript, Turn
from interviewer.transcript.store import Change, Transcripts, as_store

VERDICTS: tuple[VerdictLabel, ...] = ("covered", "partial", "missed")


# --- effective verdicts and scores ------------------------------------------------------


def base_grade(turn: Turn) -> Grade:
    """The judges' word on a question: the newest regrade's merged grade, else the live one."""
    return turn.regrades[-1].merged if turn.regrades else turn.merged


def effective_verdicts(turn: Turn) -> dict[str, str]:
    """Key point -> verdict, with reviewers' overrides applied (the newest wins)."""
    verdicts = {v.key_point: str(v.verdict) for v in base_grade(turn).verdicts}
    for o in turn.overrides:
        verdicts[o.key_point] = o.verdict
    return verdicts


def effective_score(turn: Turn, rubric: Rubric) -> float:
    """The question's score from the effective verdicts, the rubric's weights and the
    misconceptions the judge found."""
    grade = base_grade(turn)
    judged = {v.key_point: v for v in grade.verdicts}
    verdicts = [
        judged[kp] if kp in judged and judged[kp].verdict == v else Verdict(key_point=kp, verdict=v)
        for kp, v in effective_verdicts(turn).items()
    ]
    return score(rubric, verdicts, grade.misconceptions)


def turn_score(turn: Turn, bank: Bank | None) -> float:
    """`effective_score` when the bank has the question's rubric; otherwise the judges'
    score (overrides cannot be weighed without the rubric)."""
    rubric = bank.rubrics.get(turn.question_id) if bank else None
    if rubric is not None and _same_key_points(turn, rubric):
        return effective_score(turn, rubric)
    return base_grade(turn).score


def overall(transcript: Transcript, bank: Bank | None) -> float | None:
    """Mean of the questions' scores, as the report computes it; None with no questions."""
    scores = [turn_score(t, bank) for t in transcript.turns]
    return round(sum(scores) / len(scores), 1) if scores else None


def _same_key_points(turn: Turn, rubric: Rubric) -> bool:
    return {v.key_point for v in turn.merged.verdicts} == {kp.id for kp in rubric.key_points}


def default_bank() -> Bank | None:
    """The bank from settings, or None when it does not load (scores then fall back)."""
    from interviewer.bank.loader import load_bank
    from interviewer.config import load_settings

    try:
        return load_bank(load_settings().bank_dir)
    except InterviewerError:
        return None


# --- listing --------------------------------------------------------------------------


class Summary(BaseModel):
    """One saved interview, or (with `error`) a file that could not be read."""

    id: str
    created: str = ""
    updated: str = ""
    finished: bool = False
    overall: float | None = Field(None, description="Mean question score, overrides applied.")
    topics: list[str] = Field(default_factory=list)
    turns: int = 0
    overrides: int = 0
    regrades: int = 0
    error: str | None = Field(None, description="Why the file could not be read.")


def summaries(source: Path | Transcripts, bank: Bank | None = None) -> list[Summary]:
    """Every transcript in `source` (a folder, or a store such as the database's), newest
    first; unreadable ones come last, each as a summary with `error` set.

    Scores use the rubrics of `bank` (default: the bank from settings) to weigh overrides.
    """
    store = as_store(source)
    ids = store.ids()
    if bank is None and ids:
        bank = default_bank()
    good: list[Summary] = []
    bad: list[Summary] = []
    for interview_id in ids:
        try:
            t = store.load(interview_id)
        except InterviewerError as exc:
            bad.append(Summary(id=interview_id, error=exc.message))
            continue
        good.append(
            Summary(
                id=t.id,
                created=t.created,
                updated=t.updated,
                finished=t.finished,
                overall=overall(t, bank),
                topics=t.topics,
                turns=len(t.turns),
                overrides=sum(len(turn.overrides) for turn in t.turns),
                regrades=max((len(turn.regrades) for turn in t.turns), default=0),
            )
        )
    good.sort(key=lambda s: (s.created, s.id), reverse=True)
    return good + bad


# --- human override -------------------------------------------------------------------


def get_turn(transcript: Transcript, turn: int) -> Turn:
    """Turn `turn`, counted from 1 as `review show` numbers them."""
    n = len(transcript.turns)
    if not 1 <= turn <= n:
        if n == 0:
            raise InterviewerError(f"interview {transcript.id!r} has no finished questions")
        raise InterviewerError(
            f"interview {transcript.id!r} has no turn {turn}: its turns are 1-{n}",
            hint=f"`interviewer review show {transcript.id}` numbers them.",
        )
    return transcript.turns[turn - 1]


def override(
    store: Transcripts,
    interview_id: str,
    turn: int,
    key_point: str,
    verdict: str,
    note: str,
) -> Transcript:
    """Record a reviewer's verdict on one key point of turn `turn` (from 1) and save (on
    the newest saved transcript: `Transcripts.update`)."""
    return store.update(interview_id, overridden(turn, key_point, verdict, note))[0]


def overridden(turn: int, key_point: str, verdict: str, note: str) -> Change:
    """The override as a change for `Transcripts.update`: applied to the newest saved
    transcript (never None there: the update is not tolerant, so a missing one is load's
    error)."""

    def change(latest: Transcript | None) -> Transcript:
        assert latest is not None
        apply_override(latest, turn, key_point, verdict, note)
        return latest

    return change


def apply_override(
    transcript: Transcript, turn: int, key_point: str, verdict: str, note: str
) -> None:
    """Record a reviewer's verdict on one key point of turn `turn` (from 1), unsaved.

    The key point must be one of the turn's rubric key points (as graded); the verdict
    covered, partial or missed.
    """
    target = get_turn(transcript, turn)
    known = [v.key_point for v in target.merged.verdicts]
    if key_point not in known:
        raise InterviewerError(
            f"turn {turn} ({target.question_id}) has no key point {key_point!r}",
            hint=f"Its key points: {', '.join(known)}.",
        )
    if verdict not in VERDICTS:
        raise InterviewerError(
            f"verdict must be covered, partial or missed, not {verdict!r}",
        )
    at = now()
    target.overrides.append(Override(key_point=key_point, verdict=verdict, note=note, at=at))
    transcript.updated = at


# --- regrade ----------------------------------------------------------------------------


class VerdictChange(BaseModel):
    key_point: str
    old: VerdictLabel
    new: VerdictLabel


class TurnRegrade(BaseModel):
    turn: int = Field(description="From 1.")
    question_id: str
    old_score: float
    new_score: float
    changed: list[VerdictChange] = Field(default_factory=list)

    @property
    def delta(self) -> float:
        return round(self.new_score - self.old_score, 2)


class RegradeResult(BaseModel):
    interview_id: str
    judge: str
    at: str
    turns: list[TurnRegrade]

    @property
    def changed(self) -> bool:
        return any(t.changed or t.delta for t in self.turns)


def regrade(transcript: Transcript, judge: Judge, bank: Bank) -> RegradeResult:
    """Grade every answer of every finished question again with `judge`.

    The old grades stay; each turn gets a `Regrade` record (new grades, merged grade, old
    and new score), which becomes the turn's base verdicts. The transcript is changed in
    place and not saved: the caller saves it. Old and new scores are the judges' scores
    (without overrides), so that two judges can be compared.
    """
    grader = judge
    missing = sorted({t.question_id for t in transcript.turns} - set(bank.rubrics))
    if missing:
        raise InterviewerError(
            f"the bank at {bank.root} has no rubric for {', '.join(missing)}",
            hint="Regrade with the bank the interview used (--bank).",
        )
    from interviewer.judge.offline import OfflineJudge  # numpy: only when regrading

    if isinstance(grader, OfflineJudge):
        grader.learn_terms(list(bank.rubrics.values()))  # as during the interview
    at = now()
    jobs = [
        (bank.question(turn.question_id), bank.rubric(turn.question_id), a.answer)
        for turn in transcript.turns
        for a in turn.attempts
    ]
    graded = iter(_grade_all(grader, jobs))
    results = []
    for i, turn in enumerate(transcript.turns, start=1):
        rubric = bank.rubric(turn.question_id)
        grades = [next(graded) for _ in turn.attempts]
        merged = merge(rubric, grades, turn.hinted, grader.spec)
        old = base_grade(turn)
        old_verdicts = {v.key_point: v.verdict for v in old.verdicts}
        changed = [
            VerdictChange(key_point=v.key_point, old=old_verdicts[v.key_point], new=v.verdict)
            for v in merged.verdicts
            if v.key_point in old_verdicts and old_verdicts[v.key_point] != v.verdict
        ]
        turn.regrades.append(
            Regrade(
                judge=grader.spec,
                at=at,
                grades=grades,
                merged=merged,
                old_score=old.score,
                new_score=merged.score,
            )
        )
        results.append(
            TurnRegrade(
                turn=i,
                question_id=turn.question_id,
                old_score=old.score,
                new_score=merged.score,
                changed=changed,
            )
        )
    transcript.updated = at
    return RegradeResult(interview_id=transcript.id, judge=grader.spec, at=at, turns=results)


def carry_regrades(graded: Transcript, latest: Transcript | None) -> Transcript:
    """`latest`, the transcript as saved now, with the regrade records `regrade` gave
    `graded`, the copy it graded: overrides, regrades and answers saved while the judge
    worked are kept. If a graded turn's answers are no longer what was graded (the file
    was replaced meanwhile), nothing is carried: an error."""
    if latest is None:
        raise InterviewerError(f"interview {graded.id!r} is no longer saved")
    for i, old in enumerate(graded.turns, start=1):
        new = latest.turns[i - 1] if i <= len(latest.turns) else None
        if new is None or (new.question_id, [a.answer for a in new.attempts]) != (
            old.question_id,
            [a.answer for a in old.attempts],
        ):
            raise InterviewerError(
                f"interview {graded.id!r} changed while it was regraded (turn {i} is not "
                "what was graded)",
                hint="Regrade it again.",
            )
    for old, new in zip(graded.turns, latest.turns, strict=False):
        new.regrades.append(old.regrades[-1])
    latest.updated = max(latest.updated, graded.updated)  # (the interview may have saved)
    return latest


def _grade_all(
    judge: Judge, jobs: list[tuple[Question, Rubric, str]], concurrency: int = 4
) -> list[Grade]:
    """Grade every answer in one event loop (a model's async client lives in one loop),
    a few at a time; in order. Inside a running loop (no second one allowed), one by one."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return [judge.grade(q, r, a) for q, r, a in jobs]

    async def run() -> list[Grade]:
        gate = asyncio.Semaphore(concurrency)

        async def one(q: Question, r: Rubric, a: str) -> Grade:
            async with gate:
                return await judge.agrade(q, r, a)

        return list(await asyncio.gather(*(one(q, r, a) for q, r, a in jobs)))

    return asyncio.run(run())


# --- judges against reviewers ----------------------------------------------------------


class JudgeAgreement(BaseModel):
    judge: str
    agreed: int
    compared: int
    rate: float = Field(description="agreed / compared")
    confusion: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="reviewer verdict -> judge verdict -> count"
    )


class AgreementReport(BaseModel):
    folder: str = Field(description="The transcripts folder, or the database (password masked).")
    interviews: int = Field(description="Transcripts with at least one override.")
    key_points: int = Field(description="Key points a reviewer decided.")
    judges: list[JudgeAgreement]
    skipped: list[str] = Field(default_factory=list, description="Unreadable files.")


def agreement(source: Path | Transcripts) -> AgreementReport:
    """How often each judge's verdict matches the reviewer's, over every overridden key point
    in `source` (a folder, or a store such as the database's).

    For each key point a reviewer overrode (their newest verdict counts), every judge that
    graded the question (live, or in a regrade; a judge's newest grading) is compared.
    """
    store = as_store(source)
    agreed: dict[str, int] = defaultdict(int)
    compared: dict[str, int] = defaultdict(int)
    confusion: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    interviews = key_points = 0
    skipped: list[str] = []
    for interview_id in store.ids():
        try:
            t = store.load(interview_id)
        except InterviewerError as exc:
            skipped.append(f"{interview_id}: {exc.message}")
            continue
        reviewed = False
        for turn in t.turns:
            human = {o.key_point: o.verdict for o in turn.overrides}
            if not human:
                continue
            reviewed = True
            gradings: dict[str, Grade] = {turn.merged.judge: turn.merged}
            for r in turn.regrades:
                gradings[r.judge] = r.merged
            for kp, verdict in human.items():
                key_points += 1
                for spec, grade in gradings.items():
                    try:
                        said = grade.verdict(kp).verdict
                    except KeyError:
                        continue
                    compared[spec] += 1
                    agreed[spec] += said == verdict
                    confusion[spec][verdict][said] += 1
        interviews += reviewed
    judges = [
        JudgeAgreement(
            judge=spec,
            agreed=agreed[spec],
            compared=n,
            rate=round(agreed[spec] / n, 4),
            confusion=json.loads(json.dumps(confusion[spec])),
        )
        for spec, n in sorted(compared.items())
    ]
    return AgreementReport(
        folder=store.label,
        interviews=interviews,
        key_points=key_points,
        judges=judges,
        skipped=skipped,
    )
