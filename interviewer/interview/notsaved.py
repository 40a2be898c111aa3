"""A step taken whose transcript could not be written: what the screens tell apart from a
step that failed (kept light: the TUI imports it before any interview opens)."""

from __future__ import annotations

from interviewer.interview.state import Message


class NotSaved(Exception):
    """A step was taken (the checkpoint holds it: an answer sent is graded and kept, never
    to be sent again), but the transcript could not be written. `messages` is what the step
    said; the next save that succeeds writes the transcript whole."""

    def __init__(self, messages: list[Message], error: Exception) -> None:
        why = getattr(error, "strerror", None) or str(error) or type(error).__name__
        super().__init__(f"the transcript could not be saved ({why})")
        self.messages = messages
        self.error = error
