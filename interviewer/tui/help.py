"""Help screen (`?`): the keys of every screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from interviewer.transcript.marks import Mark

_C, _P, _M = (m.glyph for m in (Mark.COVERED, Mark.PARTIAL, Mark.MISSED))

HELP = f"""\
# interviewer — keys

**Everywhere**: `?` or `F1` this help · `Ctrl+P` command palette (new interview, review,
theme) · `Ctrl+Q` quit (an unfinished interview is saved; resume it from the set-up screen)

**Set-up**: `Tab` moves between fields · `Space` ticks a topic · `Ctrl+S` start ·
`Enter` on an unfinished interview resumes it · `Ctrl+R` review past interviews ·
`Ctrl+G` progress · "Practise what is due" starts an interview of the key points due for
review

**Interview**: type in the answer box (`Enter` makes a new line; Chinese input methods
work) · `Ctrl+S` submit · `Ctrl+T` hint (practice mode; the hinted key point's credit
is capped) · `Ctrl+N` skip · `Ctrl+R` repeat the question · `Ctrl+E` the reference answer, key point
by key point, once the question is graded (exam mode: after the end) · `Ctrl+O` show or
hide the quoted evidence under each key point (practice mode) · `Esc` end the interview
and see the report. What you type is saved as you type.

The side panel shows how many key points the question has; after an answer (practice
mode) each point's title with {_C} covered / {_P} partial / {_M} missed, the question's score
counting every answer so far, and what the last answer added.

**Report**: `m` / `h` / `j` export Markdown / HTML / JSON next to the transcript ·
`n` new interview · `r` review · `s` progress

**Progress**: scores per topic (a table and a chart over time), the review items due per
topic, and the key points missed most often · `F5` reload · `Esc` back

**Review**: `Enter` opens an interview · `←` `→` previous / next question · `o` override a
verdict with a note · `g` re-grade with another judge · `Esc` back

In the replay, evidence is highlighted in the answer: green covered, yellow partial,
red background a misconception.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
