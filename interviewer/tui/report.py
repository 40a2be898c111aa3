"""Report screen: the overall score and band, per-topic bars, per-question table, the key
points missed with the part of the reference that covers them, and export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Markdown, Static

from interviewer.errors import InterviewerError
from interviewer.tui.messages import NewInterview, OpenReview, OpenStats

if TYPE_CHECKING:
    from interviewer.bank.bank import Bank
    from interviewer.config import Settings
    from interviewer.transcript.schema import Report

BAR_WIDTH = 30


def topic_bars(topics: dict[str, float]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", style="bold")
    table.add_column()
    table.add_column(justify="right")
    for topic, avg in sorted(topics.items(), key=lambda kv: -kv[1]):
        filled = round(avg / 100 * BAR_WIDTH)
        style = "green" if avg >= 75 else "yellow" if avg >= 50 else "red"
        bar = Text("█" * filled, style=style) + Text("░" * (BAR_WIDTH - filled), style="dim")
        table.add_row(topic, bar, f"{avg:.0f}")
    return table


def missed_markdown(report: Report, lang: str) -> str:
    missed = report.missed
    if not missed:
        return "Nothing missed." if lang == "en" else "没有漏掉的要点。"
    lines = ["### " + ("Key points to review" if lang == "en" else "需要复习的要点")]
    for m in missed[:12]:
        lines.append(f"- **{m.question_id}** · {m.verdict} · {m.text}")
        lines.append(f"  > {m.reference}")
    return "\n".join(lines)


class ReportScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "export('md')", "Export .md"),
        Binding("h", "export('html')", "Export .html"),
        Binding("j", "export('json')", "Export .json"),
        Binding("n", "new", "New interview"),
        Binding("r", "review", "Review"),
        Binding("s", "stats", "Progress"),
    ]

    def __init__(
        self,
        interview_id: str,
        report: Report,
        lang: str,
        *,
        settings: Settings,
        bank: Bank,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.bank = bank
        self.interview_id = interview_id
        self.report = report
        self.lang = lang

    def compose(self) -> ComposeResult:
        r = self.report
        yield Header()
        with VerticalScroll(id="report"):
            yield Static(
                Text.assemble(
                    ("Overall ", "dim"),
                    (f"{r.overall:.0f}/100", "bold"),
                    ("  ·  ", "dim"),
                    (r.band, "bold magenta"),
                ),
                id="overall",
            )
            yield Static(topic_bars(r.topics), id="topic-bars")
            yield DataTable(id="questions", cursor_type="row", zebra_stripes=True)
            yield Markdown(missed_markdown(r, self.lang), id="missed")
            study = r.study_next
            if study:
                yield Static(Text.assemble(("Study next: ", "bold"), ", ".join(study)), id="study")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "interviewer"
        self.sub_title = f"report · {self.interview_id}"
        table = self.query_one("#questions", DataTable)
        table.add_columns("#", "question", "topic", "diff", "follow-ups", "score")
        for i, q in enumerate(self.report.questions, 1):
            score = "skipped" if q.skipped else f"{q.score:.0f}"
            added = (q.model_extra or {}).get("from_follow_ups")  # (older reports: none)
            follow_ups = str(q.follow_ups) + (f" ({added:+.0f})" if added else "")
            table.add_row(str(i), q.question_id, q.topic, str(q.difficulty), follow_ups, score)

    def action_export(self, fmt: str) -> None:
        from interviewer.fsutil import atomic_write
        from interviewer.transcript.export import export
        from interviewer.transcript.store import open_transcripts

        settings = self.settings
        target = Path(settings.transcripts_dir) / f"{self.interview_id}.report.{fmt}"
        try:
            transcript = open_transcripts(settings).load(self.interview_id)
            text = export(transcript, fmt, self.bank)  # type: ignore[arg-type]
            atomic_write(target, text)  # 0600: an export holds the answers
        except InterviewerError as exc:
            self.notify(str(exc), title="Export failed", severity="error")
            return
        except OSError as exc:
            self.notify(
                f"cannot write {target}: {exc.strerror or exc}",
                title="Export failed",
                severity="error",
            )
            return
        self.notify(f"saved {target}", title="Exported")

    def action_new(self) -> None:
        self.post_message(NewInterview())

    def action_review(self) -> None:
        self.post_message(OpenReview())

    def action_stats(self) -> None:
        self.post_message(OpenStats())
