"""The set-up screen's "Practise what is due" choice (the TUI's `interviewer --due`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.widgets import Button

from interviewer.config import Settings
from interviewer.practice.items import ItemsFile, apply_transcripts, save_items
from interviewer.tui.app import InterviewerApp
from interviewer.tui.interview import InterviewScreen
from interviewer.tui.setup import SetupScreen
from tests.practice.helpers import transcript, turn
from tests.tui.test_app import settle


async def test_nothing_due_says_so_and_stays(settings: Settings) -> None:
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.query_one("#due", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen)
        assert any("No review items" in str(n.message) for n in app._notifications)


async def test_due_items_start_an_interview_of_their_question(settings: Settings) -> None:
    data = ItemsFile()
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    apply_transcripts(data, [transcript("past", turn(when, {"target-modules": "missed"}))])
    save_items(settings.transcripts_dir, data)
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.query_one("#due", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, InterviewScreen)
        session = app.screen.session
        assert session.ctx.review == {"lora-principle": ["target-modules"]}
        assert session.values["current"]["question_id"] == "lora-principle"
