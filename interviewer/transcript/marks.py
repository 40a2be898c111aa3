"""The one set of verdict marks: every renderer (exports, `review show`, the TUI's replay,
panel and reference screen, the grade notes in the log and in plain mode) shows a verdict
with the glyph and colour of its `Mark`."""

from __future__ import annotations

from enum import StrEnum

from interviewer.judge.schema import ORDER


class Mark(StrEnum):
    """A verdict as shown."""

    COVERED = "covered"
    PARTIAL = "partial"
    MISSED = "missed"

    @property
    def glyph(self) -> str:
        return GLYPHS[self]

    @property
    def colour(self) -> str:
        return COLOURS[self]

    @property
    def rank(self) -> int:
        return ORDER[self.value]


GLYPHS: dict[Mark, str] = {Mark.COVERED: "✓", Mark.PARTIAL: "~", Mark.MISSED: "✗"}
COLOURS: dict[Mark, str] = {Mark.COVERED: "green", Mark.PARTIAL: "yellow", Mark.MISSED: "red"}
