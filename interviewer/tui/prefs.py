"""The set-up screen's last choices, kept in the data directory between runs."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from interviewer.fsutil import atomic_write, private_dir
from interviewer.interview.context import InterviewContext


class Choices(BaseModel):
    topics: list[str] = Field(default_factory=list)
    difficulty: int | None = None
    questions: int = 5
    persona: str = "senior"
    lang: str = "zh"
    mode: str = "practice"
    judge: str = "offline"
    follow_ups: int = 2


def path(data_dir: Path) -> Path:
    return data_dir / "tui-choices.json"


def load(data_dir: Path, defaults: Choices) -> Choices:
    try:
        return Choices.model_validate_json(path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError):
        return defaults


def save(data_dir: Path, choices: Choices) -> None:
    """Raises OSError when the data folder cannot be written."""
    private_dir(data_dir)
    atomic_write(path(data_dir), json.dumps(choices.model_dump(), ensure_ascii=False))


def to_context(choices: Choices, seed: int, interviewer: str) -> InterviewContext:
    return InterviewContext.model_validate(
        {
            "persona": choices.persona,
            "lang": choices.lang,
            "mode": choices.mode,
            "questions": choices.questions,
            "topics": choices.topics,
            "difficulty": choices.difficulty,
            "judge": choices.judge,
            "interviewer": interviewer,
            "seed": seed,
            "follow_up_limit": choices.follow_ups,
        }
    )
