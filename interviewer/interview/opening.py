"""The opening of an interview: which question comes first, and the words that ask it.

The graph's `select` and `ask` nodes use these, and so does the TUI, which shows the
opening while the graph (and LangGraph's import, about a second) is still being set up:
the same functions on the same settings give the same words.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from interviewer.bank.bank import Bank
from interviewer.bank.schema import Question
from interviewer.errors import InterviewerError
from interviewer.interview.context import InterviewContext
from interviewer.interview.selection import select_question
from interviewer.interview.state import Message
from interviewer.interview.voice import Voice


def new_id() -> str:
    """A new interview's id: when it began, and four hex digits."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def msg(role: Any, text: str, kind: str) -> Message:
    return {"role": role, "text": text, "kind": kind, "at": now()}


def check_topics(bank: Bank, ctx: InterviewContext) -> None:
    unknown = sorted(set(ctx.topics) - set(bank.topics()))
    if unknown:
        raise InterviewerError(
            f"unknown topic {', '.join(unknown)}",
            hint=f"Topics: {', '.join(bank.topics())}.",
        )


def start_difficulty(ctx: InterviewContext) -> int:
    return ctx.difficulty or 2


def next_question(
    bank: Bank, ctx: InterviewContext, asked: list[str], target_difficulty: int
) -> Question | None:
    if ctx.review:  # `--due`: the questions with due review items, in the planned order
        left = [q for q in ctx.review if q not in asked and q in bank.questions]
        return bank.question(left[0]) if left else None
    return select_question(
        bank,
        topics=ctx.topics,
        asked=asked,
        asked_topics=[bank.question(q).topic for q in asked],
        target_difficulty=target_difficulty,
        seed=ctx.seed,
        focus=ctx.focus,
    )


def first_question(bank: Bank, ctx: InterviewContext) -> Question | None:
    return next_question(bank, ctx, [], start_difficulty(ctx))


def asking(
    voice: Voice,
    ctx: InterviewContext,
    question: Question,
    turn: int,
    emit: Callable[[str], None] | None = None,
) -> list[Message]:
    """What the interviewer says to ask question number `turn` (1 for the first)."""
    messages: list[Message] = []
    if turn == 1:
        messages.append(
            msg("interviewer", voice.say("greeting", ctx.lang, 0, n=ctx.questions), "greeting")
        )
    kind = "ask_first" if turn == 1 else "ask_next"
    text = voice.say(kind, ctx.lang, turn, emit, q=question.prompt.get(ctx.lang))
    messages.append(msg("interviewer", text, "question"))
    return messages
