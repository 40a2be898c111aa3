"""Stats screen: progress per topic, each topic's score over time (a plotext chart), the key
points missed most often, and what is due for review. The same figures as
`interviewer stats`, read from the configured store (the database when database_url is
set, else the transcripts folder) in a worker, so that many interviews or a slow database
do not freeze the screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from interviewer.bank.bank import Bank
from interviewer.config import Settings
from interviewer.practice import due as due_items
from interviewer.practice.chart import Series, render, topic_series
from interviewer.practice.due import TopicDue
from interviewer.transcript.history import Progress, progress
from interviewer.transcript.store import label_of
from interviewer.tui.messages import Failure, WorkerScreen

CHART_HEIGHT = 14


@dataclass(frozen=True)
class StatsData:
    progress: Progress
    series: Series
    due: list[TopicDue]
    now: datetime


def load_stats(practice: due_items.Practice, bank: Bank | None) -> StatsData:
    """Everything the screen shows, read from the saved interviews (and the review items
    brought up to date with them)."""
    now = due_items.utcnow()
    return StatsData(
        progress=progress(practice.transcripts, bank, limit=8),
        series=topic_series(practice.transcripts, bank),
        due=due_items.due_by_topic(due_items.sync(practice), now),
        now=now,
    )


class StatsScreen(WorkerScreen):
    """Read-only; `Esc` goes back to where it was opened from."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(self, settings: Settings, bank: Bank | None) -> None:
        super().__init__()
        self.settings = settings
        self.where = label_of(settings)  # (for messages: the store is opened by the worker)
        self.bank = bank
        self.data: StatsData | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="stats"):
            yield Static("Reading the saved interviews…", id="stats-summary")
            yield DataTable(id="stats-topics", cursor_type="row", zebra_stripes=True)
            yield Static(id="stats-chart")
            yield Static(id="stats-due-title", classes="field")
            yield DataTable(id="stats-due", cursor_type="none")
            yield Static(id="stats-weak-title", classes="field")
            yield DataTable(id="stats-weak", cursor_type="none")
            yield Static(id="stats-focus")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "interviewer"
        self.sub_title = "progress"
        self.query_one("#stats-topics", DataTable).add_columns(
            "topic", "average", "answers", "first → latest"
        )
        self.query_one("#stats-due", DataTable).add_columns("topic", "due now", "items", "next due")
        self.query_one("#stats-weak", DataTable).add_columns(
            "question", "key point", "missed", "partial", "seen"
        )
        self.action_reload()

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="stats")
    def read(self) -> StatsData:
        try:
            return load_stats(due_items.Practice.of_settings(self.settings), self.bank)
        except Exception as exc:  # shown by the app (InterviewerApp.failed), and here
            raise Failure("Cannot show progress", str(exc)) from exc

    @on(Worker.StateChanged)
    def read_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "stats":
            return
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, StatsData):
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            self.query_one("#stats-summary", Static).update(
                Text(f"Cannot read {self.where}: {error}", style="red")
            )

    def on_resize(self) -> None:
        if self.data is not None:
            self.show_chart(self.data.series)

    def show(self, data: StatsData) -> None:
        self.data = data
        p = data.progress
        summary = self.query_one("#stats-summary", Static)
        if not p.topics:
            summary.update(
                f"No answered questions in {self.where} yet. Finish an interview and its "
                "scores appear here, per topic and over time."
            )
        else:
            text = Text(f"{p.interviews} interview(s), {p.answers} answered question(s)")
            for problem in p.skipped_files:
                text.append(f"\nskipped {problem}", style="yellow")
            summary.update(text)
        topics = self.query_one("#stats-topics", DataTable)
        topics.clear()
        for t in p.topics:
            trend = t.latest - t.first
            arrow = Text(
                f"{t.first:.0f} → {t.latest:.0f}",
                style="green" if trend > 0 else "red" if trend < 0 else "",
            )
            topics.add_row(t.topic, f"{t.average:.1f}", str(t.answers), arrow)
        self.show_chart(data.series)
        self.show_due(data.due, data.now)
        weak_title = self.query_one("#stats-weak-title", Static)
        weak = self.query_one("#stats-weak", DataTable)
        weak.clear()
        weak_title.update("Missed most often" if p.weakest else "")
        for w in p.weakest:
            weak.add_row(
                w.question_id, w.text or w.key_point, str(w.missed), str(w.partial), str(w.seen)
            )
        focus = self.query_one("#stats-focus", Static)
        focus.update(
            Text("Suggested focus: ", style="bold") + Text(", ".join(p.focus)) if p.focus else ""
        )

    def show_chart(self, series: Series) -> None:
        width = max(40, self.query_one("#stats", VerticalScroll).size.width - 2)
        chart = render(series, width=width, height=CHART_HEIGHT)
        self.query_one("#stats-chart", Static).update(Text.from_ansi(chart) if chart else "")

    def show_due(self, rows: list[TopicDue], now: datetime) -> None:
        title = self.query_one("#stats-due-title", Static)
        table = self.query_one("#stats-due", DataTable)
        table.clear()
        total = sum(r.due for r in rows)
        if not rows:
            title.update("No review items yet: key points you miss become review items.")
            return
        title.update(
            f"Review items: {total} due now (set-up screen: Practise what is due)"
            if total
            else "Review items: nothing due now"
        )
        for r in rows:
            upcoming = (
                due_items.when(datetime.fromisoformat(r.next_due), now) if r.next_due else "-"
            )
            table.add_row(r.topic, str(r.due), str(r.items), upcoming)
