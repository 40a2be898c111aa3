"""Transcript schema, version 2: one JSON file per interview.

A transcript holds everything shown and typed: the interview's settings (never an API key:
only the judge and interviewer specs), the whole conversation, and per question the words
shown, every answer with its time and grade, the merged verdicts, the follow-ups asked,
hints, skips, and what reviewers did later (overrides, regrades).

Older files are upgraded on load by `interviewer.transcript.migrate`; bump `SCHEMA_VERSION`
and add a migration step whenever the shape changes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from interviewer.judge.schema import Grade, VerdictLabel
from interviewer.transcript.settings import InterviewSettings

SCHEMA_VERSION = 2

Role = Literal["interviewer", "candidate", "system"]


class Message(BaseModel):
    """One line of the conversation as it was shown."""

    role: Role
    text: str
    kind: str = Field(description="question, follow_up, answer, hint, grade, ack, closing...")
    at: str = Field(description="ISO time, UTC.")


class Attempt(BaseModel):
    """One answer to a question: the main answer, or the answer to a follow-up."""

    prompt: str = Field(description="What the candidate was answering, as shown.")
    probes: str | None = Field(
        None, description="The key point a follow-up probed; None for the main question."
    )
    answer: str = Field(description="The candidate's words, exactly as typed.")
    at: str = Field(description="When the answer was sent (ISO time, UTC).")
    grade: Grade = Field(description="The judge's grade of this answer alone.")

    @property
    def follow_up(self) -> bool:
        return self.probes is not None


class FollowUpAsked(BaseModel):
    """A follow-up the interviewer asked."""

    key_point: str | None = Field(
        None, description="The key point it probed; None when it was never answered."
    )
    text: str
    at: str


class Override(BaseModel):
    """A human reviewer's verdict on one key point; the newest one per key point wins."""

    key_point: str
    verdict: VerdictLabel
    note: str = ""
    at: str


class Regrade(BaseModel):
    """Every answer of a question graded again by another (or the same) judge."""

    judge: str
    at: str
    grades: list[Grade] = Field(description="One grade per attempt, in the same order.")
    merged: Grade = Field(description="The new grades merged: best verdict per key point.")
    old_score: float = Field(description="The judge score before this regrade.")
    new_score: float


class Turn(BaseModel):
    """One question: what was shown, every answer with its grade, and the merged result."""

    question_id: str
    topic: str
    difficulty: int
    shown: list[Message] = Field(
        default_factory=list, description="The interviewer's (and system's) words for it."
    )
    attempts: list[Attempt] = Field(default_factory=list, description="Main answer first.")
    follow_ups: list[FollowUpAsked] = Field(default_factory=list)
    merged: Grade = Field(description="The grade of the question: best verdict per key point.")
    score: float = Field(description="The merged grade's score, 0-100, as graded live.")
    hinted: list[str] = Field(default_factory=list, description="Key points hinted at.")
    skipped: bool = False
    overrides: list[Override] = Field(default_factory=list)
    regrades: list[Regrade] = Field(default_factory=list)


class Current(BaseModel):
    """The question in progress when the transcript was written (unfinished interviews)."""

    question_id: str
    topic: str = ""
    difficulty: int = 0
    shown: list[Message] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    probed: list[str] = Field(default_factory=list)
    hinted: list[str] = Field(default_factory=list)
    dont_know: bool = False
    off_topic: int = 0
    pending_probe: str | None = None
    started: str = ""


class ReportQuestion(BaseModel):
    model_config = ConfigDict(extra="allow")

    question_id: str
    topic: str
    difficulty: int
    prompt: str
    score: float
    skipped: bool = False
    follow_ups: int = 0


class ReportMissed(BaseModel):
    model_config = ConfigDict(extra="allow")

    question_id: str
    key_point: str
    verdict: VerdictLabel
    weight: float
    text: str
    reference: str


class Report(BaseModel):
    """The wrap-up report as shown at the end (interviewer.interview.report)."""

    model_config = ConfigDict(extra="allow")

    overall: float
    band: str
    questions: list[ReportQuestion] = Field(default_factory=list)
    topics: dict[str, float] = Field(default_factory=dict)
    strengths: list[str] = Field(default_factory=list)
    missed: list[ReportMissed] = Field(default_factory=list)
    study_next: list[str] = Field(default_factory=list)


class Transcript(BaseModel):
    schema_version: Literal[2] = 2
    id: str
    created: str
    updated: str
    settings: InterviewSettings = Field(description="The interview's options; never a key.")
    messages: list[Message] = Field(default_factory=list, description="Everything, in order.")
    turns: list[Turn] = Field(default_factory=list, description="Finished questions.")
    current: Current | None = None
    draft: str = Field("", description="An answer being typed, autosaved; cleared on send.")
    draft_taken: int | None = Field(
        None,
        description="Answers, skips and quits the interview had taken when the draft was "
        "typed; a resume drops the draft if more have been taken since (it was sent).",
    )
    report: Report | None = None
    finished: bool = False

    @property
    def topics(self) -> list[str]:
        return sorted({t.topic for t in self.turns})
