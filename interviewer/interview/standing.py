"""Where an interview stands, as typed models for the screens (`Session.standing`).

The graph's state is plain dicts (interviewer.interview.state), made for the checkpointer.
The UI never indexes them: it reads a `Standing`, whose questions are the transcript's own
pydantic models (grades as `Grade`), built here by the same functions that write the
transcript.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from interviewer.bank.schema import Rubric
from interviewer.judge import progress
from interviewer.transcript.build import Lookup, current_from_state, turn_from_finished
from interviewer.transcript.schema import Current, Report, Turn


class Standing(BaseModel):
    """The question in progress, the finished ones, and the report once there is one."""

    current: Current | None = Field(None, description="The question in progress.")
    finished: list[Turn] = Field(default_factory=list, description="Finished, in order.")
    asked: int = Field(0, description="Questions asked so far, the current one included.")
    done: bool = False
    report: Report | None = None

    @property
    def shown(self) -> Current | Turn | None:
        """The question on screen: the one in progress, else the last finished one."""
        if self.current is not None:
            return self.current
        return self.finished[-1] if self.finished else None

    @property
    def last_graded(self) -> Current | Turn | None:
        """The newest question with an answer: the one in progress once it has one, else
        the last finished one that was answered (not skipped unanswered)."""
        if self.current is not None and self.current.attempts:
            return self.current
        return next((t for t in reversed(self.finished) if t.attempts), None)


def running(rubric: Rubric, question: Current | Turn) -> progress.Step | None:
    """The question's running grade after its last answer (None before any)."""
    grades = [a.grade for a in question.attempts]
    return progress.latest(rubric, grades, question.hinted, "")


def standing_of(values: Mapping[str, Any], lookup: Lookup | None = None) -> Standing:
    """The typed standing of the graph state `values` (`lookup` fills in the topic and
    difficulty of the question in progress)."""
    current = values.get("current")
    return Standing(
        current=current_from_state(current, [], lookup) if current else None,
        finished=[turn_from_finished(item, []) for item in values.get("finished") or []],
        asked=len(values.get("asked") or []),
        done=bool(values.get("done")),
        report=Report.model_validate(values["report"]) if values.get("report") else None,
    )
