"""The stats screen (Ctrl+G on the set-up screen, `s` on the report): progress per topic,
the chart over time, what is due, and a folder it cannot read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual.widgets import DataTable, Static

from interviewer.config import Settings
from interviewer.practice.items import open_items
from interviewer.transcript.store import open_transcripts
from interviewer.tui.app import InterviewerApp
from interviewer.tui.setup import SetupScreen
from interviewer.tui.stats import StatsScreen
from tests.practice.helpers import transcript, turn
from tests.tui.test_app import settle


def text_of(screen: StatsScreen, selector: str) -> str:
    content = screen.query_one(selector, Static).render()
    return content.plain if isinstance(content, Text) else str(content)


async def test_empty_folder_says_what_will_appear(settings: Settings) -> None:
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        assert "No answered questions" in text_of(screen, "#stats-summary")
        assert screen.query_one("#stats-topics", DataTable).row_count == 0
        assert "No review items yet" in text_of(screen, "#stats-due-title")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen)


async def test_two_interviews_show_a_trend_a_chart_and_the_due_item(
    settings: Settings, database_url: str | None
) -> None:
    """On both backends: the interviews saved in the configured store (the database when
    database_url is set), and the review items caught up in the same store."""
    settings = settings.model_copy(update={"database_url": database_url})
    store = open_transcripts(settings)
    now = datetime.now(UTC)
    first = (now - timedelta(days=3)).isoformat(timespec="seconds")
    second = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    store.save(transcript("20261201-090000-aaaa", turn(first, {"target-modules": "missed"})))
    store.save(transcript("20261202-090000-bbbb", turn(second, {"init-scaling": "missed"})))
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        assert text_of(screen, "#stats-summary").startswith("2 interview(s), 2 answered")
        topics = screen.query_one("#stats-topics", DataTable)
        assert topics.row_count == 1
        assert topics.get_row_at(0)[0] == "lora"
        chart = text_of(screen, "#stats-chart")
        assert "Score per topic over time" in chart
        assert first[:10] in chart and second[:10] in chart  # one point a day on the x axis
        due = screen.query_one("#stats-due", DataTable)
        assert due.row_count == 1
        row = due.get_row_at(0)
        # init-scaling, missed an hour ago, is due; target-modules, covered since, is not.
        assert row[0] == "lora" and row[2] == "2" and row[1] == "1"
        assert "1 due now" in text_of(screen, "#stats-due-title")
        weak = screen.query_one("#stats-weak", DataTable)
        assert weak.row_count == 2
    assert set(open_items(settings).load().items) == {
        "lora-principle/target-modules",
        "lora-principle/init-scaling",
    }
    if database_url:
        assert not settings.transcripts_dir.exists(), "nothing written to the folder"


async def test_an_unreadable_folder_is_named_not_a_crash(settings: Settings) -> None:
    settings.transcripts_dir.parent.mkdir(parents=True, exist_ok=True)
    settings.transcripts_dir.write_text("not a folder", encoding="utf-8")
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.action_stats()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        assert app.is_running
        assert str(settings.transcripts_dir) in text_of(screen, "#stats-summary")
        assert any(n.title == "Cannot show progress" for n in app._notifications)
