"""The set-up screen's "Practise what is due" choice (the TUI's `interviewer --due`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.widgets import Button

from interviewer.config import Settings
from interviewer.practice.items import ItemsFile, apply_transcripts, open_items, save_items
from interviewer.transcript.store import open_transcripts
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


async def test_due_comes_from_the_interviews_of_the_configured_store(
    settings: Settings, database_url: str | None
) -> None:
    """On both backends: a point missed in an interview saved in the configured store (the
    database when database_url is set) becomes the due item, with no items saved before."""
    settings = settings.model_copy(update={"database_url": database_url})
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    missed = transcript("20261201-090000-aaaa", turn(when, {"target-modules": "missed"}))
    open_transcripts(settings).save(missed)
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.query_one("#due", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, InterviewScreen)
        session = app.screen.session
        assert session.ctx.review == {"lora-principle": ["target-modules"]}
        assert session.values["current"]["question_id"] == "lora-principle"
    assert "lora-principle/target-modules" in open_items(settings).load().items
    if database_url:
        assert not settings.transcripts_dir.exists(), "nothing written to the folder"
