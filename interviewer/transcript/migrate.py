"""Upgrade transcripts written by older versions: one function per version step.

`MIGRATIONS[n]` takes the JSON data of a version-n transcript and returns version n+1.
`upgrade` applies them in order; `parse` upgrades and validates. A file from a newer
version than this program knows is refused with a clear message rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from interviewer.errors import InterviewerError
from interviewer.transcript.build import current_from_state, segments, turn_from_finished
from interviewer.transcript.schema import SCHEMA_VERSION, Transcript

Data = dict[str, Any]

# The settings schema 2 keeps from a v1 file: the settings' fields when v2 was made,
# frozen here so that a later change to the settings model cannot change what an old
# file migrates to.
V2_SETTINGS = frozenset(
    {
        "persona",
        "lang",
        "mode",
        "questions",
        "topics",
        "difficulty",
        "judge",
        "interviewer",
        "seed",
        "follow_up_limit",
        "focus",
    }
)


def v1_to_v2(data: Data) -> Data:
    """v1 stored turns, the question in progress and the report as loose dicts.

    v2 types them, gives each turn the words shown and the follow-ups asked (cut from the
    conversation), starts an empty list of regrades, and keeps only known settings (so a
    stray key in an old file's settings is dropped, whatever it held).
    """
    messages = list(data.get("messages", []))
    parts = segments(messages)
    turns = []
    for i, item in enumerate(data.get("turns", [])):
        turn = turn_from_finished(
            item, parts[i] if i < len(parts) else [], overrides=item.get("overrides", [])
        )
        turns.append(turn.model_dump(mode="json"))
    current = data.get("current")
    if current:
        index = len(turns)
        segment = parts[index] if index < len(parts) else []
        current = current_from_state(current, segment, None).model_dump(mode="json")
    settings = {k: v for k, v in dict(data.get("settings", {})).items() if k in V2_SETTINGS}
    return {
        **data,
        "schema_version": 2,
        "settings": settings,
        "turns": turns,
        "current": current,
    }


MIGRATIONS: dict[int, Callable[[Data], Data]] = {1: v1_to_v2}


def version_of(data: Data, source: str = "transcript") -> int:
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InterviewerError(
            f"{source}: schema_version {version!r} is not a version number",
            hint="A transcript's schema_version is a whole number from 1 (this version "
            f"writes {SCHEMA_VERSION}); fix it, or move the file out of the folder.",
        )
    return version


def upgrade(data: Data, source: str = "transcript") -> Data:
    """The data brought to the current schema version, one step at a time."""
    version = version_of(data, source)
    if version > SCHEMA_VERSION:
        raise InterviewerError(
            f"{source}: written by a newer interviewer (schema {version}; "
            f"this one reads up to {SCHEMA_VERSION})",
            hint="Upgrade interviewer to read it.",
        )
    while version < SCHEMA_VERSION:
        try:
            data = MIGRATIONS[version](data)
        except (KeyError, TypeError, ValueError) as exc:
            raise InterviewerError(
                f"{source}: cannot upgrade from schema {version} ({type(exc).__name__}: {exc})"
            ) from None
        version = version_of(data, source)
    return data


def parse(data: Any, source: str = "transcript") -> Transcript:
    """A transcript from JSON data of any known version."""
    if not isinstance(data, dict):
        raise InterviewerError(f"{source}: not a transcript (expected a JSON object)")
    data = upgrade(data, source)
    try:
        return Transcript.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InterviewerError(
            f"{source}: not a valid transcript: {where}: {first['msg']} "
            f"({exc.error_count()} problem(s))"
        ) from None
