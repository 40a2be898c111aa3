"""`interviewer stats`: progress over time, from the saved interviews."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from interviewer.cli.common import console, err_console, handles_errors

if TYPE_CHECKING:
    from interviewer.bank.bank import Bank
    from interviewer.practice.due import Practice

BAR = 30  # characters for 100 points


def bar(score: float) -> Text:
    full = round(score / 100 * BAR)
    style = "green" if score >= 75 else "yellow" if score >= 55 else "red"
    return Text("█" * full, style=style) + Text("·" * (BAR - full), style="dim")


@handles_errors
def stats_command(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            "--transcripts",
            help="Transcripts folder (default: the configured store: the database when "
            "database_url is set, else transcripts/ in the data folder or transcripts_dir "
            "from settings). A folder of examples is never counted.",
        ),
    ] = None,
    bank_dir: Annotated[Path | None, typer.Option("--bank", help="Bank folder.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Weak key points to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Progress over time: average per topic (a bar chart), the key points you miss most
    often, and the topics to practise next (what `--focus-weak` favours).

    Example: interviewer stats --json
    """
    from interviewer.cli.review import bank_of, offer_import
    from interviewer.config import load_settings
    from interviewer.practice.due import Practice
    from interviewer.transcript.history import progress

    offer_import()
    practice = (
        Practice.of_folder(folder) if folder is not None else Practice.of_settings(load_settings())
    )
    where = practice.transcripts.label
    bank = bank_of(bank_dir)
    data = progress(practice.transcripts, bank, limit=limit)
    if as_json:
        console.print_json(data.model_dump_json())
        return
    for problem in data.skipped_files:
        err_console.print(Text(f"warning: skipped {problem}", style="yellow"))
    if not data.topics:
        console.print(f"No answered questions in {where} yet.", markup=False)
        return
    console.print(
        f"{data.interviews} interview(s), {data.answers} answered question(s) in {where}",
        markup=False,
    )
    table = Table("topic", "average", "", "answers", "first → latest", title="Per topic")
    for t in data.topics:
        trend = t.latest - t.first
        arrow = Text(
            f"{t.first:.0f} → {t.latest:.0f}",
            style="green" if trend > 0 else "red" if trend < 0 else "",
        )
        table.add_row(t.topic, f"{t.average:.1f}", bar(t.average), str(t.answers), arrow)
    console.print(table)
    if len(data.timeline) > 1:
        timeline = Table("interview", "date", "overall", "", title="Over time")
        for p in data.timeline:
            timeline.add_row(p.id, p.created[:10], f"{p.overall:.1f}", bar(p.overall))
        console.print(timeline)
    if data.weakest:
        weak = Table("question", "key point", "missed", "partial", "seen", title="Missed most")
        for w in data.weakest:
            name = Text(w.key_point)
            if w.text:
                name.append("\n" + w.text, style="dim")
            weak.add_row(w.question_id, name, str(w.missed), str(w.partial), str(w.seen))
        console.print(weak)
    _chart_and_due(practice, bank)
    console.print(
        Text("Suggested focus: ", style="bold") + Text(", ".join(data.focus)),
    )
    console.print("Practise them with: interviewer interview --focus-weak", markup=False)


def _chart_and_due(practice: Practice, bank: Bank | None) -> None:
    """Each topic's score over time (a plotext chart), and the review items due."""
    from interviewer.practice.chart import render, topic_series
    from interviewer.practice.due import due_by_topic, sync, utcnow, when

    chart = render(topic_series(practice.transcripts, bank), width=min(100, console.width))
    if chart:
        console.print(Text.from_ansi(chart))
    now = utcnow()
    items = sync(practice)
    rows = due_by_topic(items, now)
    if not rows:
        return
    due = Table("topic", "due now", "items", "next due", title="Review items (--due)")
    for r in rows:
        upcoming = when(datetime.fromisoformat(r.next_due), now) if r.next_due else "-"
        due.add_row(r.topic, str(r.due), str(r.items), upcoming)
    console.print(due)
    total = sum(r.due for r in rows)
    if total:
        console.print(
            f"{total} key point(s) due: practise them with interviewer --due", markup=False
        )
