"""Build a transcript from the interview graph's state (and v1 files, which hold the same).

The graph keeps the conversation as one list of messages and every finished question as a
plain dict (interviewer.interview.state.Finished). Here the messages are cut into one
segment per question (from its `question` message to the next one) so that each turn
carries the words shown for it and the follow-ups asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from interviewer.transcript.schema import (
    Current,
    FollowUpAsked,
    Message,
    Report,
    Transcript,
    Turn,
)
from interviewer.transcript.settings import InterviewSettings

# Said once per interview, not about a question.
NOT_A_TURN = {"greeting", "closing"}

Lookup = Callable[[str], tuple[str, int] | None]
"""question id -> (topic, difficulty), or None when the bank does not know it."""


def segments(messages: Sequence[Mapping[str, Any]]) -> list[list[dict[str, Any]]]:
    """The messages of each asked question, in order (the greeting and closing left out)."""
    out: list[list[dict[str, Any]]] = []
    for m in messages:
        if m.get("kind") == "question":
            out.append([])
        if out and m.get("kind") not in NOT_A_TURN:
            out[-1].append(dict(m))
    return out


def shown(segment: Sequence[Mapping[str, Any]]) -> list[Message]:
    """What the candidate saw for a question: everything but their own words."""
    return [Message.model_validate(m) for m in segment if m.get("role") != "candidate"]


def follow_ups(
    segment: Sequence[Mapping[str, Any]],
    attempts: Sequence[Mapping[str, Any]],
    probed: Sequence[str] | None = None,
) -> list[FollowUpAsked]:
    """The follow-ups asked, each with the key point it probed.

    The graph asks a follow-up only after the previous one was answered, so the i-th
    follow-up is the one the i-th follow-up answer replies to. `probed` (known while the
    question is in progress) names them all; afterwards an unanswered last one has none.
    """
    keys = list(probed) if probed is not None else [a["probes"] for a in attempts if a["probes"]]
    asked = [m for m in segment if m.get("kind") == "follow_up"]
    return [
        FollowUpAsked(key_point=keys[i] if i < len(keys) else None, text=m["text"], at=m["at"])
        for i, m in enumerate(asked)
    ]


def turn_from_finished(
    item: Mapping[str, Any], segment: Sequence[Mapping[str, Any]], **reviews: Any
) -> Turn:
    """A finished question (the graph's Finished dict, or a v1 turn) as a typed turn."""
    return Turn.model_validate(
        {
            "question_id": item["question_id"],
            "topic": item["topic"],
            "difficulty": item["difficulty"],
            "shown": shown(segment),
            "attempts": item["attempts"],
            "follow_ups": follow_ups(segment, item["attempts"]),
            "merged": item["merged"],
            "score": item["score"],
            "hinted": item.get("hinted", []),
            "skipped": item.get("skipped", False),
            **reviews,
        }
    )


def current_from_state(
    current: Mapping[str, Any], segment: Sequence[Mapping[str, Any]], lookup: Lookup | None
) -> Current:
    known = lookup(current["question_id"]) if lookup else None
    topic, difficulty = known or ("", 0)
    return Current.model_validate(
        {**current, "topic": topic, "difficulty": difficulty, "shown": shown(segment)}
    )


def from_state(
    values: Mapping[str, Any],
    *,
    interview_id: str,
    created: str,
    updated: str,
    settings: InterviewSettings,
    draft: str = "",
    draft_taken: int | None = None,
    lookup: Lookup | None = None,
    previous: Transcript | None = None,
) -> Transcript:
    """The transcript of an interview from its graph state.

    `previous` is the transcript saved before: reviewers' overrides and regrades of its
    turns are kept (the graph knows nothing of them).
    """
    messages = list(values.get("messages", []))
    parts = segments(messages)
    finished = list(values.get("finished", []))
    turns = []
    for i, item in enumerate(finished):
        reviews: dict[str, Any] = {}
        if previous and i < len(previous.turns):
            old = previous.turns[i]
            if old.question_id == item["question_id"]:
                reviews = {"overrides": old.overrides, "regrades": old.regrades}
        turns.append(turn_from_finished(item, parts[i] if i < len(parts) else [], **reviews))
    current = None
    if values.get("current"):
        index = len(finished)
        segment = parts[index] if index < len(parts) else []
        current = current_from_state(values["current"], segment, lookup)
    report = values.get("report")
    return Transcript(
        id=interview_id,
        created=created,
        updated=updated,
        # The saved fields only, as the saved model (the graph's context is a subclass).
        settings=InterviewSettings.model_validate(settings.model_dump()),
        messages=[Message.model_validate(m) for m in messages],
        turns=turns,
        current=current,
        draft=draft,
        draft_taken=draft_taken if draft else None,
        report=Report.model_validate(report) if report else None,
        finished=bool(values.get("done")),
    )
