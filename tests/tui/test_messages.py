"""Screens tell the app what to do with typed messages (interviewer.tui.messages): each is
run alone here, in a host app that records what it posts; a failed worker is shown once."""

from __future__ import annotations

import shutil

from textual import on, work
from textual.app import App
from textual.message import Message
from textual.screen import Screen

from interviewer.bank.loader import load_bank
from interviewer.config import Settings
from interviewer.interview.personas import personas
from interviewer.transcript.store import TranscriptStore
from interviewer.tui import prefs
from interviewer.tui.app import InterviewerApp
from interviewer.tui.messages import (
    Failure,
    NewInterview,
    OpenReview,
    OpenStats,
    StartInterview,
    WorkerFailed,
    WorkerScreen,
)
from interviewer.tui.report import ReportScreen
from interviewer.tui.setup import SetupScreen
from tests.conftest import REPO
from tests.tui.pilot import settle

EXAMPLE = "20261123-091153-1a34"


class Host(App[None]):
    """Shows one screen and records every message that reaches the app."""

    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self.first = screen
        self.posted: list[Message] = []

    def on_mount(self) -> None:
        self.push_screen(self.first)

    @on(Message)
    def record(self, message: Message) -> None:
        self.posted.append(message)

    def of(self, kind: type[Message]) -> list[Message]:
        return [m for m in self.posted if isinstance(m, kind)]


async def test_start_posts_the_chosen_interview(settings: Settings) -> None:
    choices = prefs.load(settings.data_dir, prefs.Choices())
    screen = SetupScreen(settings, load_bank(settings.bank_dir), choices, personas())
    host = Host(screen)
    async with host.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        [start] = host.of(StartInterview)
        assert isinstance(start, StartInterview)
        assert start.ctx.topics == ["coding"] and start.ctx.questions == 2
        assert start.ctx.lang == "zh" and start.ctx.mode == "practice"
        assert start.choices is not None and start.choices.topics == ["coding"]
        assert host.screen is screen, "the set-up screen navigates nowhere itself"
    assert prefs.load(settings.data_dir, prefs.Choices()).topics == ["coding"]


async def test_report_keys_post_where_to_go(settings: Settings) -> None:
    settings.transcripts_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "transcripts" / f"{EXAMPLE}.json", settings.transcripts_dir)
    transcript = TranscriptStore(settings.transcripts_dir).load(EXAMPLE)
    assert transcript.report is not None
    report = transcript.report.model_dump(mode="json")
    bank = load_bank(settings.bank_dir)
    host = Host(ReportScreen(EXAMPLE, report, "zh", settings=settings, bank=bank))
    async with host.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in ("s", "r", "n"):
            await pilot.press(key)
            await settle(pilot)
        kinds = [
            type(m) for m in host.posted if isinstance(m, OpenStats | OpenReview | NewInterview)
        ]
        assert kinds == [OpenStats, OpenReview, NewInterview]


class Failing(WorkerScreen):
    @work(thread=True, exit_on_error=False)
    def fail(self) -> None:
        raise Failure("Oops", "it broke")

    def on_mount(self) -> None:
        self.fail()


async def test_a_failed_worker_is_posted_and_shown_once(settings: Settings) -> None:
    host = Host(Failing())
    async with host.run_test() as pilot:
        await settle(pilot)
        failed = host.of(WorkerFailed)
        assert len(failed) == 1
        assert isinstance(failed[0], WorkerFailed)
        assert (failed[0].title, failed[0].text) == ("Oops", "it broke")
    app = InterviewerApp(settings)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.push_screen(Failing())
        await settle(pilot)
        shown = [(n.title, n.message) for n in app._notifications if n.severity == "error"]
        assert shown == [("Oops", "it broke")]
        assert app.is_running and app.return_code is None
