"""The interview's settings as saved in a transcript: what the candidate chose.

The persisted model lives here, with the transcript; the interview graph's run context
(`interviewer.interview.context.InterviewContext`) is built from it. Never an API key:
only the judge and interviewer specs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class InterviewSettings(BaseModel):
    """Settings of one interview, the same for the TUI and plain mode.

    Saved with the interview so that `--resume` rebuilds it.
    """

    persona: str = Field("senior", description="Persona name (interview/personas/*.yaml).")
    lang: Literal["zh", "en"] = "zh"
    mode: Literal["practice", "exam"] = "practice"
    questions: int = Field(5, ge=1, le=50, description="Main questions to ask.")
    topics: list[str] = Field(default_factory=list, description="Only these topics (empty: all).")
    difficulty: Literal[1, 2, 3] | None = Field(None, description="Start level; adapts after.")
    judge: str = "offline"
    interviewer: str = "scripted"
    seed: int = 0
    follow_up_limit: int = Field(2, ge=0, le=5, description="Follow-ups per question.")
    focus: list[str] = Field(
        default_factory=list, description="Weak topics to favour (from past interviews)."
    )
    review: dict[str, list[str]] = Field(
        default_factory=dict,
        description="`--due`: question id -> its due key points; these questions are asked, "
        "in this order, and their key points are probed first.",
    )
