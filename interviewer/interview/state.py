"""The graph's state. Plain JSON-able data, so the SQLite checkpointer can store it.

One interview is one LangGraph thread. The state holds the conversation as shown, the
question in progress, and every finished question with its grade.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

Role = Literal["interviewer", "candidate", "system"]


class Message(TypedDict):
    role: Role
    text: str
    kind: str  # question | follow_up | answer | hint | grade | ack | closing | note
    at: str  # ISO time


class Attempt(TypedDict):
    """One answer to the current question (the main answer or a follow-up answer)."""

    prompt: str
    probes: str | None  # the key point a follow-up probed; None for the main question
    answer: str
    grade: dict[str, Any]  # Grade.model_dump()
    at: str


class Current(TypedDict):
    """The question in progress."""

    question_id: str
    attempts: list[Attempt]
    probed: list[str]  # key points already asked about
    hinted: list[str]  # key points whose hint was shown (their credit is capped)
    dont_know: bool
    off_topic: int
    pending_probe: str | None  # the key point the last follow-up asked about
    started: str


class Finished(TypedDict):
    question_id: str
    topic: str
    difficulty: int
    score: float
    merged: dict[str, Any]  # the merged grade: best verdict per key point
    attempts: list[Attempt]
    hinted: list[str]
    skipped: bool


class InterviewState(TypedDict, total=False):
    interview_id: str
    settings: dict[str, Any]  # InterviewContext as saved, so that --resume can rebuild it
    created: str
    messages: Annotated[list[Message], operator.add]
    current: Current | None
    finished: list[Finished]
    asked: list[str]
    target_difficulty: int
    action: str  # the candidate's last action: answer | skip | hint | repeat | quit
    moved_at: int  # len(messages) when the candidate last moved (what a resume shows from)
    taken: int  # answers, skips and quits taken so far (a draft typed before is spent)
    truncated: bool  # the last answer was cut at MAX_ANSWER_CHARS
    report: dict[str, Any] | None
    done: bool
