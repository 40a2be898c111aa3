"""Checks made when an interview opens, before the first question is shown: the judge spec
and its key, the interviewer's spec and key, and the persona. A mistake here used to show
only after the first answer (or never, for a spec saved into the transcript).

Nothing heavy is imported for the offline judge and the scripted interviewer, so the TUI's
first question is not delayed.
"""

from __future__ import annotations

from interviewer.config import JudgeSpec, Settings
from interviewer.interview.context import InterviewContext
from interviewer.interview.personas import persona


def check_choices(settings: Settings, ctx: InterviewContext) -> None:
    """Raise InterviewerError (a ConfigError for a spec or key) naming what is wrong."""
    persona(ctx.persona)
    judge = JudgeSpec.parse(ctx.judge)
    if judge.provider != "offline":
        from interviewer.judge import make_judge

        make_judge(judge, settings)  # raises NeedsKeyError when its key is not set
    if ctx.interviewer != "scripted":
        from interviewer.llm.providers import make_provider

        make_provider(JudgeSpec.parse(ctx.interviewer), settings)
