"""Review screens: the saved transcripts, and one transcript replayed with each answer's
evidence highlighted, the verdict per key point, human overrides and re-grading.

They call the same functions as `interviewer review` (interviewer.transcript.review).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from interviewer.transcript import review
from interviewer.transcript.schema import Transcript
from interviewer.transcript.store import Transcripts, open_transcripts
from interviewer.transcript.unsaved import keep_unsaved, why_not_saved
from interviewer.transcript.view import turn_view
from interviewer.tui.messages import Failure, NewInterview, WorkerScreen

if TYPE_CHECKING:
    from interviewer.bank.bank import Bank
    from interviewer.config import Settings


class ReviewListScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "new", "New interview"),
    ]

    def __init__(self, settings: Settings, bank: Bank) -> None:
        super().__init__()
        self.settings = settings
        self.bank = bank

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="transcripts", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "interviewer"
        self.sub_title = "review"
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        table = self.query_one("#transcripts", DataTable)
        table.clear(columns=True)
        table.add_columns("id", "date", "score", "questions", "topics", "status")
        try:
            rows = review.summaries(open_transcripts(self.settings), self.bank)
        except Exception as exc:
            self.notify(str(exc), title="Cannot list the transcripts", severity="error")
            rows = []
        for s in rows:
            if s.error:
                table.add_row(s.id, "", "", "", s.error[:40], "unreadable", key=s.id)
                continue
            score = "" if s.overall is None else f"{s.overall:.0f}"
            status = "finished" if s.finished else "unfinished"
            if s.overrides:
                status += f" · {s.overrides} overridden"
            table.add_row(
                s.id,
                s.created[:16].replace("T", " "),
                score,
                str(s.turns),
                ", ".join(s.topics)[:30],
                status,
                key=s.id,
            )
        if not rows:
            self.notify("No transcripts yet: finish an interview first.", timeout=4)
        table.focus()

    @on(DataTable.RowSelected, "#transcripts")
    def open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(
                TranscriptScreen(str(event.row_key.value), settings=self.settings, bank=self.bank)
            )

    def action_new(self) -> None:
        self.post_message(NewInterview())


class OverrideDialog(ModalScreen[tuple[str, str, str] | None]):
    """Pick a key point of the turn, the verdict a human gives it, and a note."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, turn: int, key_points: list[tuple[str, str]]) -> None:
        super().__init__()
        self.turn = turn
        self.key_points = key_points

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Override a verdict of question {self.turn}")
            yield Select(
                [(f"{kid}: {text[:50]}", kid) for kid, text in self.key_points],
                value=self.key_points[0][0],
                allow_blank=False,
                id="key-point",
            )
            yield Select(
                [("covered", "covered"), ("partial", "partial"), ("missed", "missed")],
                value="covered",
                allow_blank=False,
                id="verdict",
            )
            yield Input(placeholder="note: why (optional)", id="note")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel (Esc)", id="cancel")

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#note")
    def save(self) -> None:
        self.dismiss(
            (
                str(self.query_one("#key-point", Select).value),
                str(self.query_one("#verdict", Select).value),
                self.query_one("#note", Input).value,
            )
        )

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)


class RegradeDialog(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Re-grade every answer with the judge:")
            yield Input(value="offline", id="judge")
            yield Label("offline, openai:MODEL, anthropic:MODEL or compatible:MODEL", classes="dim")

    @on(Input.Submitted, "#judge")
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class TranscriptScreen(WorkerScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("up,k", "turn(-1)", "Prev question", show=False),
        Binding("down,j", "turn(1)", "Next question", show=False),
        Binding("o", "override", "Override"),
        Binding("g", "regrade", "Re-grade"),
        Binding("left", "turn(-1)", "Prev"),
        Binding("right", "turn(1)", "Next"),
    ]

    def __init__(self, interview_id: str, *, settings: Settings, bank: Bank) -> None:
        super().__init__()
        self.settings = settings
        self.bank = bank
        self.interview_id = interview_id
        self.turn = 1
        self.transcript: Transcript | None = None
        self.plain = ""

    @property
    def store(self) -> Transcripts:
        return open_transcripts(self.settings)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="replay"):
            yield Static("", id="turn")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "interviewer"
        self.reload()

    def reload(self) -> None:
        try:
            self.transcript = self.store.load(self.interview_id)
        except Exception as exc:  # damaged, from a newer version, unreadable: show why
            self.transcript = None
            self.sub_title = f"{self.interview_id} · cannot be read"
            message = f"Cannot open this transcript.\n\n{exc}\n\nThe file is left as it is."
            self.plain = message
            self.query_one("#turn", Static).update(Text(message, style="red"))
            self.notify(str(exc), title="Cannot open the transcript", severity="error")
            return
        self.render_turn()

    def action_turn(self, step: int) -> None:
        if self.transcript and self.transcript.turns:
            self.turn = max(1, min(len(self.transcript.turns), self.turn + step))
            self.render_turn()

    def render_turn(self) -> None:
        t = self.transcript
        assert t is not None
        total = len(t.turns)
        self.sub_title = f"{t.id} · question {self.turn if total else 0}/{total}"
        if not total:
            self.query_one("#turn", Static).update("No finished questions in this interview.")
            return
        view = turn_view(self.turn, t.turns[self.turn - 1], t.settings.lang, self.bank)
        parts: list[Text] = []
        prompt = view.prompt or view.question_id
        parts.append(Text.assemble((f"Q{self.turn} ", "bold"), (prompt, "bold cyan")))
        for attempt in view.attempts:
            if attempt.probes is not None:
                parts.append(Text.assemble(("follow-up  ", "dim"), attempt.prompt))
            answer = Text("  ")
            for run in attempt.runs:
                if run.misconception:
                    answer.append(run.text, style="bold white on red")
                elif run.strongest is not None:
                    answer.append(run.text, style=f"bold black on {run.strongest.colour}")
                else:
                    answer.append(run.text)
            parts.append(answer)
            note = f"this answer {attempt.score:.0f} · {attempt.judge}"
            if attempt.step is not None:  # the question's running grade, as the interview showed it
                step = attempt.step
                note = f"question so far {step.score:.0f} ({step.added('en')}) · {note}"
            parts.append(Text(f"  {note}", "dim"))
        parts.append(Text("\nKey points", style="bold"))
        for row in view.rows:
            line = Text.assemble(
                ("● ", row.mark.colour), (f"{row.mark:<8}", "bold"), row.statement or row.key_point
            )
            if row.overridden:
                line.append(f"   (judge: {row.judge}; overridden)", style="italic magenta")
            parts.append(line)
        for o in view.overrides:
            parts.append(Text(f"  override {o.key_point} → {o.verdict}: {o.note}", style="magenta"))
        parts.append(Text.assemble(("\nScore ", "dim"), (f"{view.score:.0f}/100", "bold")))
        for rg in view.regrades:
            parts.append(
                Text(
                    f"  re-graded by {rg.judge}: {rg.old_score:.0f} → {rg.new_score:.0f}",
                    style="cyan",
                )
            )
        self.plain = "\n".join(p.plain for p in parts)  # what is on screen, as text
        self.query_one("#turn", Static).update(Group(*parts))

    def action_override(self) -> None:
        t = self.transcript
        if t is None or not t.turns:
            return
        turn = t.turns[self.turn - 1]
        lang = t.settings.lang
        rubric = self.bank.rubrics.get(turn.question_id)
        key_points = [
            (v.key_point, rubric.key_point(v.key_point).text.get(lang) if rubric else "")
            for v in turn.merged.verdicts
        ]

        def done(choice: tuple[str, str, str] | None) -> None:
            if choice is None:
                return
            kp, verdict, note = choice
            try:
                transcript = self.store.load(self.interview_id)
                review.apply_override(transcript, self.turn, kp, verdict, note)
            except Exception as exc:  # the file changed under us: damaged, or turns gone
                self.notify(str(exc), title="Override not saved", severity="error")
                return
            change = review.overridden(self.turn, kp, verdict, note)
            try:
                self.store.update(self.interview_id, change)  # on the newest saved copy
            except Exception as exc:  # cannot be written (a file, a database): keep it
                self.notify(
                    self.kept(transcript, exc), title="Override not saved", severity="error"
                )
                return
            self.notify(f"{kp} → {verdict}", title="Override saved")
            self.reload()

        self.app.push_screen(OverrideDialog(self.turn, key_points), done)

    def action_regrade(self) -> None:
        def chosen(spec: str | None) -> None:
            if spec:
                self.notify(f"re-grading with {spec}…", timeout=3)
                self.regrade(spec)

        self.app.push_screen(RegradeDialog(), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="regrade")
    def regrade(self, spec: str) -> tuple[str, str]:
        """The notification's title and text (shown by `regraded`)."""
        from interviewer.judge import make_judge

        transcript = self.transcript
        try:
            judge = make_judge(spec, self.settings)
            assert transcript is not None
            result = review.regrade(transcript, judge, self.bank)
        except Exception as exc:  # shown by the app (InterviewerApp.failed)
            raise Failure("Re-grade failed", str(exc)) from exc
        try:  # onto the newest saved copy: overrides made while it graded are kept
            self.store.update(
                self.interview_id, lambda latest: review.carry_regrades(transcript, latest)
            )
        except Exception as exc:  # the grades may have cost model calls: keep them
            raise Failure("Re-grade not saved", self.kept(transcript, exc)) from exc
        lines = [
            f"Q{i}: {r.old_score:.0f} → {r.new_score:.0f}" for i, r in enumerate(result.turns, 1)
        ]
        return f"Re-graded with {spec}", "\n".join(lines) or "nothing to re-grade"

    def kept(self, transcript: Transcript, exc: Exception) -> str:
        """Why `transcript` could not be saved, and where it was kept instead."""
        kept = keep_unsaved(transcript, self.settings.data_dir)
        where = f"; kept in {kept}" if kept else "; it could not be kept anywhere either"
        return f"cannot save it: {why_not_saved(exc)}{where}"

    @on(Worker.StateChanged)
    def regraded(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "regrade":
            return
        result: object = event.worker.result
        if event.state == WorkerState.SUCCESS and isinstance(result, tuple):
            title, text = result
            self.notify(str(text), title=str(title))
            self.reload()
