"""Transcripts built by hand, with fixed dates, for the review-item tests."""

from __future__ import annotations

from interviewer.interview.context import InterviewContext
from interviewer.judge.schema import Grade, Verdict
from interviewer.transcript.schema import Attempt, Transcript, Turn

KEY_POINTS = [
    "low-rank-update",
    "frozen-base",
    "trainable-params",
    "init-scaling",
    "target-modules",
    "merge-no-latency",
]


def grade(verdicts: dict[str, str]) -> Grade:
    full = {kp: verdicts.get(kp, "covered") for kp in KEY_POINTS}
    return Grade(
        verdicts=[Verdict(key_point=k, verdict=v) for k, v in full.items()],  # type: ignore[arg-type]
        score=50,
        judge="offline",
    )


def turn(
    at: str,
    first: dict[str, str],
    merged: dict[str, str] | None = None,
    *,
    question_id: str = "lora-principle",
    hinted: list[str] | None = None,
    skipped: bool = False,
) -> Turn:
    """A finished question answered at `at`: `first` is the first answer's verdicts and
    `merged` the question's (after follow-ups); key points not named are covered."""
    attempts = [Attempt(prompt="q", answer="a", at=at, grade=grade(first))]
    return Turn(
        question_id=question_id,
        topic="lora",
        difficulty=2,
        attempts=attempts,
        merged=grade(merged if merged is not None else first),
        score=50,
        hinted=hinted or [],
        skipped=skipped,
    )


def transcript(interview_id: str, *turns: Turn) -> Transcript:
    stamp = turns[-1].attempts[-1].at if turns else "2026-12-01T09:00:00+00:00"
    return Transcript(
        id=interview_id,
        created=stamp,
        updated=stamp,
        settings=InterviewContext(),
        turns=list(turns),
        finished=True,
    )
