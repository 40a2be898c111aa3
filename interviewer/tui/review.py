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

from interviewer.judge import progress
from interviewer.transcript import review
from interviewer.transcript.export import pieces
from interviewer.transcript.schema import Transcript
from interviewer.transcript.store import Transcripts, open_transcripts

if TYPE_CHECKING:
    from interviewer.tui.app import InterviewerApp

STYLE = {"covered": "green", "partial": "yellow", "missed": "red"}


class ReviewListScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "new", "New interview"),
    ]

    @property
    def tui(self) -> InterviewerApp:
        return self.app  # type: ignore[return-value]

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
            rows = review.summaries(open_transcripts(self.tui.settings), self.tui.bank)
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
            self.app.push_screen(TranscriptScreen(str(event.row_key.value)))

    def action_new(self) -> None:
        self.tui.action_new_interview()


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


class TranscriptScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("up,k", "turn(-1)", "Prev question", show=False),
        Binding("down,j", "turn(1)", "Next question", show=False),
        Binding("o", "override", "Override"),
        Binding("g", "regrade", "Re-grade"),
        Binding("left", "turn(-1)", "Prev"),
        Binding("right", "turn(1)", "Next"),
    ]

    def __init__(self, interview_id: str) -> None:
        super().__init__()
        self.interview_id = interview_id
        self.turn = 1
        self.transcript: Transcript | None = None
        self.plain = ""

    @property
    def tui(self) -> InterviewerApp:
        return self.app  # type: ignore[return-value]

    @property
    def store(self) -> Transcripts:
        return open_transcripts(self.tui.settings)

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
        turn = t.turns[self.turn - 1]
        lang = t.settings.lang
        rubric = self.tui.bank.rubrics.get(turn.question_id)
        parts: list[Text] = []
        question = self.tui.bank.questions.get(turn.question_id)
        prompt = question.prompt.get(lang) if question else turn.question_id
        parts.append(Text.assemble((f"Q{self.turn} ", "bold"), (prompt, "bold cyan")))
        steps: list[progress.Step | None] = [None] * len(turn.attempts)
        if rubric is not None:
            grades = [a.grade for a in turn.attempts]
            steps = list(progress.running(rubric, grades, list(turn.hinted), ""))
        for attempt, step in zip(turn.attempts, steps, strict=True):
            if attempt.follow_up:
                parts.append(Text.assemble(("follow-up  ", "dim"), attempt.prompt))
            answer = Text("  ")
            runs, _missing = pieces(attempt)
            for run in runs:
                if run.misconception:
                    answer.append(run.text, style="bold white on red")
                elif run.labels:
                    verdict = run.labels[0].rsplit(": ", 1)[-1]
                    answer.append(run.text, style=f"bold black on {STYLE.get(verdict, 'blue')}")
                else:
                    answer.append(run.text)
            parts.append(answer)
            note = f"this answer {attempt.grade.score:.0f} · {attempt.grade.judge}"
            if step is not None:  # the question's running grade, as the interview showed it
                note = f"question so far {step.score:.0f} ({step.added('en')}) · {note}"
            parts.append(Text(f"  {note}", "dim"))
        effective = review.effective_verdicts(turn)
        graded = {v.key_point: v.verdict for v in turn.merged.verdicts}
        parts.append(Text("\nKey points", style="bold"))
        for kp_id, verdict in effective.items():
            text = rubric.key_point(kp_id).text.get(lang) if rubric else kp_id
            line = Text.assemble(("● ", STYLE.get(verdict, "")), (f"{verdict:<8}", "bold"), text)
            if graded.get(kp_id) != verdict:
                line.append(f"   (judge: {graded.get(kp_id)}; overridden)", style="italic magenta")
            parts.append(line)
        for o in turn.overrides:
            parts.append(Text(f"  override {o.key_point} → {o.verdict}: {o.note}", style="magenta"))
        score = review.turn_score(turn, self.tui.bank)
        parts.append(Text.assemble(("\nScore ", "dim"), (f"{score:.0f}/100", "bold")))
        for rg in turn.regrades:
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
        rubric = self.tui.bank.rubrics.get(turn.question_id)
        key_points = [
            (v.key_point, rubric.key_point(v.key_point).text.get(lang) if rubric else "")
            for v in turn.merged.verdicts
        ]

        def done(choice: tuple[str, str, str] | None) -> None:
            if choice is None:
                return
            kp, verdict, note = choice
            try:
                review.override(self.store, self.interview_id, self.turn, kp, verdict, note)
            except Exception as exc:  # the file changed under us, or cannot be written
                self.notify(str(exc), title="Override not saved", severity="error")
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

    @work(thread=True, exclusive=True, group="regrade")
    def regrade(self, spec: str) -> None:
        from interviewer.judge import make_judge

        try:
            judge = make_judge(spec, self.tui.settings)
            assert self.transcript is not None
            result = review.regrade(self.transcript, judge, self.tui.bank)
            self.store.save(self.transcript)
        except Exception as exc:
            self.app.call_from_thread(
                self.notify, str(exc), title="Re-grade failed", severity="error"
            )
            return
        lines = [
            f"Q{i}: {r.old_score:.0f} → {r.new_score:.0f}" for i, r in enumerate(result.turns, 1)
        ]
        self.app.call_from_thread(
            self.notify, "\n".join(lines) or "nothing to re-grade", title=f"Re-graded with {spec}"
        )
        self.app.call_from_thread(self.reload)
