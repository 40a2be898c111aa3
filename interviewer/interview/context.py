"""The run's settings: what the candidate chose. Not changed by the graph."""

from __future__ import annotations

from interviewer.transcript.settings import InterviewSettings


class InterviewContext(InterviewSettings):
    """The graph's run context (its `context_schema`): the interview's settings as a
    transcript saves them (`interviewer.transcript.settings`), the same for the TUI and
    plain mode."""
