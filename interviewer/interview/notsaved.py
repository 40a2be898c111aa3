"""A step taken whose transcript could not be written: what the screens tell apart from a
step that failed (kept light: the TUI imports it before any interview opens)."""

from __future__ import annotations

from interviewer.interview.state import Message
from interviewer.transcript.unsaved import why_not_saved


class NotSaved(Exception):
    """A step was taken (the checkpoint holds it: an answer sent is graded and kept, never
    to be sent again), but the transcript could not be written. `messages` is what the step
    said; the next save that succeeds writes the transcript whole."""

    def __init__(self, messages: list[Message], error: Exception) -> None:
        super().__init__(f"the transcript could not be saved ({why_not_saved(error)})")
        self.messages = messages
        self.error = error
