"""The run's settings: what the candidate chose. Not changed by the graph."""

from __future__ import annotations

from pydantic import ConfigDict

from interviewer.transcript.settings import InterviewSettings


class InterviewContext(InterviewSettings):
    """The graph's run context (its `context_schema`): the interview's settings as a
    transcript saves them (`interviewer.transcript.settings`), the same for the TUI and
    plain mode. Built by our code, so a name it does not know is a mistake: an error, not
    a setting silently dropped (a saved transcript's settings are read leniently, by
    `InterviewSettings`)."""

    model_config = ConfigDict(extra="forbid")
