"""What the screens and their workers tell the app, and the app does: typed messages
instead of calls into the app. A screen posts; `InterviewerApp` handles them with `@on`.

Workers run with `exit_on_error=False`. A `WorkerScreen` turns its failed worker into
`WorkerFailed` (Textual's `Worker.StateChanged` does not bubble), and one handler in the
app shows it, titled by the `Failure` the worker raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from interviewer.interview.context import InterviewContext
from interviewer.tui.prefs import Choices

if TYPE_CHECKING:
    from interviewer.interview.session import Session
    from interviewer.interview.state import Message as Said


class StartInterview(Message):
    """Start a new interview on `ctx` (set-up screen); `choices`, when given, are the
    set-up's new defaults."""

    def __init__(self, ctx: InterviewContext, choices: Choices | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.choices = choices


class ResumeInterview(Message):
    """Resume the saved interview `interview_id` (set-up screen)."""

    def __init__(self, interview_id: str) -> None:
        super().__init__()
        self.interview_id = interview_id


class CannotStart(Message):
    """The interview could not be opened or started: say why, back to the set-up."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class SessionOpened(Message):
    """A new interview's session is open (the interview screen's worker)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session


class Streamed(Message, bubble=False):
    """Words of the interviewer's reply as they arrive (the interview screen's worker)."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words


class StepDone(Message, bubble=False):
    """A step of the interview was taken (the interview screen's worker, to itself)."""

    def __init__(self, action: str, messages: list[Said], values: dict[str, Any]) -> None:
        super().__init__()
        self.action = action
        self.messages = messages
        self.values = values


class InterviewFinished(Message):
    """The interview is over: show its report."""

    def __init__(self, session: Session, values: dict[str, Any]) -> None:
        super().__init__()
        self.session = session
        self.values = values


class NewInterview(Message):
    """Back to the set-up screen."""


class OpenReview(Message):
    """The list of saved transcripts."""


class OpenStats(Message):
    """The progress screen."""


class Failure(Exception):
    """Raised in a worker: the app shows `text` as an error notification titled `title`."""

    def __init__(self, title: str | None, text: str) -> None:
        super().__init__(text)
        self.title = title
        self.text = text


class StepFailed(Failure):
    """An interview step failed; the screen gives the answer back before it is shown."""

    def __init__(self, action: str, text: str, error: Exception) -> None:
        super().__init__("Could not go on", f"{type(error).__name__}: {error}")
        self.action = action
        self.answer = text
        self.error = error


class WorkerFailed(Message):
    """A worker failed: the app shows `text` as an error notification titled `title`."""

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title = title
        self.text = text


class WorkerScreen(Screen[None]):
    """A screen whose failed workers are shown by the app. A subclass handling a failure
    itself, and not to be shown, calls `event.prevent_default()`."""

    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, Failure):
            self.post_message(WorkerFailed(error.title or "", error.text))
        else:
            self.post_message(WorkerFailed("Failed", f"{type(error).__name__}: {error}"))
