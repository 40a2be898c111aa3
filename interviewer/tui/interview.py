"""Interview screen: the conversation, the answer box, and a side panel.

Every call into the interview (start, answer, hint, skip, repeat, end) runs in a thread
worker, so the screen keeps responding while a judge grades or a model streams; streamed
words are shown as they arrive. The answer being typed is saved into the transcript a
moment after each change, so a crash loses nothing typed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Header, Label, Static, TextArea
from textual.worker import Worker, WorkerState

from interviewer.interview import explain, opening
from interviewer.interview.context import InterviewContext
from interviewer.interview.notsaved import NotSaved
from interviewer.interview.personas import persona
from interviewer.interview.standing import Standing, running
from interviewer.interview.state import Message
from interviewer.interview.voice import ScriptedVoice
from interviewer.judge import progress
from interviewer.judge.progress import Step
from interviewer.transcript.marks import Mark
from interviewer.tui.messages import (
    CannotStart,
    Failure,
    InterviewFinished,
    SessionOpened,
    StepDone,
    StepFailed,
    Streamed,
    WorkerFailed,
    WorkerScreen,
)

if TYPE_CHECKING:
    from interviewer.bank.bank import Bank
    from interviewer.interview.session import Session

AUTOSAVE_SECONDS = 1.5


class ChatLine(Static):
    """One message of the conversation."""

    def __init__(self, message: Message) -> None:
        role = message["role"]
        text = Text()
        if role == "interviewer":
            text.append("» ", style="bold cyan")
            text.append(message["text"])
        elif role == "candidate":
            text.append("you  ", style="bold green")
            text.append(message["text"])
        else:
            text.append(message["text"], style="dim" if message["kind"] != "grade" else "")
        super().__init__(text, classes=f"msg {role} {message['kind']}")


class ConfirmEnd(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "Cancel"),
        Binding("y", "dismiss(True)", "Yes"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("End the interview now and see the report?")
            with Horizontal(classes="buttons"):
                yield Button("End (y)", variant="error", id="yes")
                yield Button("Keep going (Esc)", id="no")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


@dataclass
class Opening:
    """A new interview whose session is not open yet. Opening it imports LangGraph and
    builds the graph (about a second), so the screen shows the first question at once,
    from the same functions the graph uses, and opens the session in a worker."""

    interview_id: str
    ctx: InterviewContext
    open: Callable[[], Session]


class InterviewScreen(WorkerScreen):
    clock = staticmethod(time.monotonic)  # the question timer's clock (fixed in snapshots)
    cursor_blink = True  # (off in snapshots)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Submit", priority=True),
        Binding("ctrl+t", "hint", "Hint"),
        Binding("ctrl+n", "skip", "Skip"),
        Binding("ctrl+r", "repeat", "Repeat"),
        # (priority: the answer box would take Ctrl+E as "end of line"; End does that)
        Binding("ctrl+e", "explain", "Reference", priority=True),
        Binding("ctrl+o", "evidence", "Evidence"),
        Binding("escape", "end", "End"),
    ]

    def __init__(
        self,
        session: Session | Opening,
        bank: Bank,
        resumed: bool = False,
        draft: str = "",
    ) -> None:
        super().__init__()
        self.bank = bank
        self.interview_id, self.ctx = session.interview_id, session.ctx
        self.opening = session if isinstance(session, Opening) else None
        self.session = None if isinstance(session, Opening) else session
        self.preview: list[Message] = []  # the opening shown before the session is open
        self.submit_when_open = False  # Ctrl+S was pressed while it was opening
        self.resumed = resumed
        self.initial_draft = draft
        self.busy = False
        self.dirty = False
        self.question_started = self.clock()
        self.streaming: Static | None = None
        self.streamed = ""
        self.standing = Standing()  # the state last shown (what Ctrl+E explains)
        self.show_evidence = False  # the checklist quotes the answer under each point
        self.shown: tuple[str, int, Step | None] | None = None  # what the panel shows

    @property
    def practice(self) -> bool:
        return self.ctx.mode == "practice"

    @property
    def live(self) -> Session:
        """The open session (actions wait, `busy`, until it is)."""
        assert self.session is not None, "the session is still opening"
        return self.session

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="interview"):
            with Vertical(id="main"):
                yield VerticalScroll(id="log")
                yield TextArea(id="answer", soft_wrap=True, show_line_numbers=False)
                yield Label("", id="status")
            with Vertical(id="side"):
                yield Static("", id="question-info")
                yield Static("", id="timer")
                if self.practice:
                    yield Static("", id="checklist")
                    yield Static("", id="score")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "interviewer"
        self.sub_title = f"{self.interview_id} · {self.ctx.mode}"
        answer = self.query_one("#answer", TextArea)
        answer.text = self.initial_draft
        answer.move_cursor(answer.document.end)  # what is typed next continues the draft
        answer.cursor_blink = self.cursor_blink
        answer.focus()
        self.tick()
        self.set_interval(1.0, self.tick)
        self.set_interval(AUTOSAVE_SECONDS, self.autosave)
        if self.resumed:
            try:
                said, standing = self.live.said(), self.live.standing()
            except Exception as exc:  # the checkpoint database cannot be read
                self.post_message(CannotStart(exc))
                return
            for m in said:
                self.add_message(m)
            self.refresh_panel(standing)
            if self.live.step_in_flight() or standing.done:
                self.call_session("resume")  # finish the step a crash cut short
        elif self.opening is not None:
            self.show_preview()
            self.busy = True
            self.set_status("…")
            self.open_session(self.opening)
        else:
            self.call_session("start")

    def show_preview(self) -> None:
        """The greeting and first question, as the graph will say them, shown now. Only for
        the scripted voice: a model's words cannot be known before it says them."""
        if self.ctx.interviewer != "scripted":
            return
        bank = self.bank
        question = opening.first_question(bank, self.ctx)
        if question is None:
            return
        voice = ScriptedVoice(persona(self.ctx.persona))
        self.preview = opening.asking(voice, self.ctx, question, 1)
        for m in self.preview:
            self.add_message(m)
        self.question_started = self.clock()
        self.paint_panel(question.id, asked=1, step=None)

    @work(thread=True, group="open")  # (not "session": its start would cancel this one)
    def open_session(self, pending: Opening) -> None:
        try:
            session = pending.open()
        except Exception as exc:
            self.post_message(CannotStart(exc))
            return
        self.post_message(SessionOpened(session))

    @on(SessionOpened)
    def opened(self, event: SessionOpened) -> None:
        # (then the app keeps it too: the message goes on up)
        self.session = event.session
        self.busy = False
        self.call_session("start")

    @on(CannotStart)
    def cannot_start(self) -> None:
        # (the app says why and goes back to the set-up: the message goes on up)
        self.busy = False
        self.preview, self.submit_when_open = [], False
        self.set_status("")

    # --- talking to the session ---------------------------------------------------------

    def call_session(self, action: str, text: str = "") -> None:
        if self.busy:
            self.notify("Still working on the last step…", severity="warning", timeout=2)
            return
        self.busy = True
        self.set_status("grading…" if action == "answer" else "…")
        # A hint or a repeat leaves the answer being typed in the box: it stays saved.
        keep = self.query_one("#answer", TextArea).text if action in ("hint", "repeat") else ""
        self.run_session(action, text, keep)

    @work(thread=True, exclusive=True, exit_on_error=False, group="session")
    def run_session(self, action: str, text: str, keep: str = "") -> None:
        def chunk(words: str) -> None:
            self.post_message(Streamed(words))  # (before StepDone: one queue)

        session = self.live
        try:
            if action == "start":
                # Words already on screen are not streamed again.
                messages = session.start(on_chunk=None if self.preview else chunk)
            elif action == "resume":
                messages = session.finish_pending(on_chunk=chunk)
            else:
                messages = session.send(action, text, on_chunk=chunk, draft=keep)
        except NotSaved as exc:  # the step is taken (the answer graded): show it, and warn
            messages = exc.messages
            self.post_message(
                WorkerFailed(
                    "Transcript not saved",
                    f"{exc}. The interview goes on: the checkpoint keeps every answer, and "
                    "the next save that succeeds writes the transcript.",
                )
            )
        except Exception as exc:  # provider, file and SQLite errors: tell, keep the answer
            raise StepFailed(action, text, exc) from exc
        try:
            standing = session.standing()  # (read here: SQLite, off the event loop)
        except Exception as exc:  # the step is taken, but its state cannot be read back
            raise StepFailed(action, "", exc) from exc
        self.post_message(StepDone(action, messages, standing))

    @on(Worker.StateChanged)
    def failed(self, event: Worker.StateChanged) -> None:
        """A step failed: give the answer back; the app shows the error."""
        error = event.worker.error
        if event.state != WorkerState.ERROR or not isinstance(error, StepFailed):
            return
        self.busy = False
        self.set_status("")
        if error.action == "start":  # nothing to go on with: back to the set-up screen
            event.prevent_default()  # (not shown as a failed step: CannotStart says it)
            self.post_message(CannotStart(error.error))
            return
        if error.action == "answer" and error.answer:
            self.query_one("#answer", TextArea).text = error.answer

    @on(Streamed)
    def add_chunk(self, event: Streamed) -> None:
        words = event.words
        log = self.query_one("#log", VerticalScroll)
        if self.streaming is None:
            self.streamed = ""
            self.streaming = Static("", classes="msg interviewer streaming")
            log.mount(self.streaming)
        self.streamed += words
        self.streaming.update(Text.assemble(("» ", "bold cyan"), self.streamed))
        log.scroll_end(animate=False)

    @on(StepDone)
    def step_done(self, event: StepDone) -> None:
        self.after_step(event.action, event.messages, event.standing)

    def after_step(self, action: str, messages: list[Message], standing: Standing) -> None:
        self.busy = False
        self.set_status("")
        self.tell_set_aside()
        if self.streaming is not None:
            self.streaming.remove()
            self.streaming = None
        if action == "start" and self.preview:
            shown, self.preview = self.preview, []
            queued, self.submit_when_open = self.submit_when_open, False
            if _words(shown) == _words(messages):
                self.refresh_panel(standing)  # the opening on screen is the graph's own
                if queued:
                    self.submit_answer()
                return
            for line in self.query(ChatLine):
                line.remove()
        for m in messages:
            self.add_message(m)
            if m["kind"] in ("question", "follow_up"):
                self.question_started = self.clock()
        if any(m["role"] == "candidate" for m in messages):
            self.dirty = False
        if action == "resume":
            area = self.query_one("#answer", TextArea)
            if not area.text.strip():
                area.text = self.live.saved_draft()
                area.move_cursor(area.document.end)
        self.refresh_panel(standing)
        if standing.done:
            self.post_message(InterviewFinished(self.live, standing.report))

    def tell_set_aside(self) -> None:
        """Say so when the saved transcript could not be read and was kept beside the new."""
        if self.session is None:
            return
        aside = self.session.store.set_aside.pop(self.interview_id, None)
        if aside is not None:
            # (it names the file kept aside: long enough on screen to be read)
            self.notify(
                str(aside), title="Saved transcript unreadable", severity="error", timeout=30
            )

    def add_message(self, message: Message) -> None:
        log = self.query_one("#log", VerticalScroll)
        log.mount(ChatLine(message))
        # After the new line is laid out, so that the end is really the end.
        self.call_after_refresh(log.scroll_end, animate=False)

    # --- actions --------------------------------------------------------------------------

    def action_submit(self) -> None:
        # Ctrl+S is a priority binding, so it runs as soon as the key arrives, while keys
        # typed (or pasted) just before it may still wait in the answer box's queue. Read
        # the box from that same queue, after them, so the whole answer goes in.
        self.query_one("#answer", TextArea).call_later(self.submit_answer)

    def submit_answer(self) -> None:
        area = self.query_one("#answer", TextArea)
        text = area.text.strip()
        if not text:
            self.notify("Type an answer first (Enter makes a new line).", timeout=3)
            return
        if self.busy and self.preview:
            # The question is on screen but its session is still opening: the answer goes in
            # once it is open (see after_step).
            self.submit_when_open = True
            self.set_status("your answer goes in as soon as the interview is ready…")
            return
        if self.busy:
            self.notify("Still working on the last step…", severity="warning", timeout=2)
            return
        area.text = ""
        self.call_session("answer", text)

    def action_hint(self) -> None:
        if not self.practice:
            self.notify("Hints are for practice mode.", timeout=3)
            return
        self.call_session("hint")

    def action_skip(self) -> None:
        self.call_session("skip")

    def action_repeat(self) -> None:
        self.call_session("repeat")

    def action_explain(self) -> None:
        found = explain.explain(self.standing, self.bank, self.ctx.lang, self.ctx.mode)
        if isinstance(found, str):
            self.notify(found, timeout=4)
            return
        self.app.push_screen(ReferenceScreen(found, self.ctx.lang))

    def action_evidence(self) -> None:
        if not self.practice:
            self.notify("Grades and evidence are shown at the end in exam mode.", timeout=3)
            return
        self.show_evidence = not self.show_evidence
        if self.shown is not None:
            self.paint_panel(*self.shown)

    def action_end(self) -> None:
        def ended(yes: bool | None) -> None:
            if yes:
                self.call_session("quit")

        self.app.push_screen(ConfirmEnd(), ended)

    # --- the answer box and the panel ----------------------------------------------------

    @on(TextArea.Changed, "#answer")
    def changed(self) -> None:
        self.dirty = True

    def autosave(self) -> None:
        if self.dirty and not self.busy and self.session is not None:
            self.dirty = False
            self.save_draft(self.query_one("#answer", TextArea).text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="draft")
    def save_draft(self, text: str) -> None:
        try:
            self.live.save(draft=text)
        except Exception as exc:  # shown by the app (InterviewerApp.failed)
            raise Failure(None, f"could not save the draft: {exc}") from exc

    @on(Worker.StateChanged)
    def draft_saved(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "draft" and event.state == WorkerState.SUCCESS:
            self.tell_set_aside()

    def tick(self) -> None:
        elapsed = int(self.clock() - self.question_started)
        self.query_one("#timer", Static).update(f"⏱  {elapsed // 60:02d}:{elapsed % 60:02d}")

    def set_status(self, text: str) -> None:
        self.query_one("#status", Label).update(text)

    def refresh_panel(self, standing: Standing) -> None:
        self.standing = standing
        question = standing.shown
        if question is None:
            self.query_one("#question-info", Static).update("")
            return
        # The question's running grade: every answer so far, combined (never the last
        # answer's own grade), and what the last answer added.
        step = running(self.bank.rubric(question.question_id), question)
        self.paint_panel(question.question_id, standing.asked, step)

    def paint_panel(self, question_id: str, asked: int, step: Step | None) -> None:
        self.shown = (question_id, asked, step)
        question = self.bank.question(question_id)
        self.query_one("#question-info", Static).update(
            Text.assemble(
                ("Question ", "dim"),
                (f"{asked}/{self.ctx.questions}\n", "bold"),
                ("Topic ", "dim"),
                (f"{question.topic}\n", "bold"),
                ("Difficulty ", "dim"),
                ("●" * question.difficulty + "○" * (3 - question.difficulty), "bold"),
            )
        )
        if not self.practice:
            return  # exam mode: no checklist, no grade, until the report
        self.update_checklist(question_id, step)
        grade = step.merged if step else None
        fallback = bool(grade and "judge_fallback" in grade.flags)
        base = f"{self.interview_id} · {self.ctx.mode}"
        self.sub_title = f"{base} · judge fell back to offline" if fallback else base

    def update_checklist(self, question_id: str, step: Step | None) -> None:
        rubric = self.bank.rubric(question_id)
        lang = self.ctx.lang
        checklist = self.query_one("#checklist", Static)
        score = self.query_one("#score", Static)
        n = len(rubric.key_points)
        if step is None:
            # Before an answer: how many points there are, nothing that hints at them.
            checklist.update(Text(f"{n} key point{'s' if n != 1 else ''}", style="dim"))
            score.update("")
            return
        lines = Text("Key points\n", style="bold")
        for kp in rubric.key_points:
            v = step.merged.verdict(kp.id)
            mark = Mark(v.verdict)
            lines.append(f"{mark.glyph} ", style=mark.colour)
            lines.append(
                f"{progress.title(kp, lang)}\n", style="bold" if kp.id in step.gained else ""
            )
            if self.show_evidence and v.evidence:
                lines.append(f"  “{_clip(v.evidence)}”\n", style="dim italic")
        hint = (
            "Ctrl+O hides the quotes"
            if self.show_evidence
            else "Ctrl+O: quotes · Ctrl+E: reference"
        )
        lines.append(hint, style="dim")
        checklist.update(lines)
        score.update(
            Text.assemble(
                ("Score ", "dim"),
                (f"{step.score:.0f}/100", "bold"),
                ("\nlast answer ", "dim"),
                (step.added("en"), "green" if step.delta > 0 or step.gained else "dim"),
            )
        )


class ReferenceScreen(ModalScreen[None]):
    """The reference answer, key point by key point, marking what was missed (Ctrl+E)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("ctrl+e", "dismiss", "Close", show=False),
    ]

    def __init__(self, found: explain.Explanation, lang: str) -> None:
        super().__init__()
        self.found = found
        self.lang = lang

    def compose(self) -> ComposeResult:
        zh = self.lang == "zh"
        body = Text()
        body.append(("参考答案 · " if zh else "Reference · ") + self.found.prompt + "\n\n", "bold")
        for p in self.found.points:
            mark = Mark(p.verdict)
            style = mark.colour
            body.append(f"{mark.glyph} ", style=style)
            body.append(p.title, style="bold")
            if p.verdict != "covered":
                missed = p.verdict == "missed"
                note = ("你漏了" if zh else "missed") if missed else ("部分" if zh else "partial")
                body.append(f"  ({note})", style=style)
            body.append(f"\n  {p.text}\n\n")
        with Vertical(id="reference-dialog"):
            with VerticalScroll():
                yield Static(body, id="reference")
            yield Label("Esc closes", classes="dim")


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _words(messages: list[Message]) -> list[tuple[str, str, str]]:
    return [(m["role"], m["kind"], m["text"]) for m in messages]
