"""The TUI shows file, SQLite and set-up errors on screen and goes on; it never exits with
a traceback, and it never overwrites a transcript it cannot read."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea
from textual.worker import WorkerFailed
from typer.testing import CliRunner

from interviewer.config import Settings
from interviewer.interview.context import InterviewContext
from interviewer.transcript.schema import Transcript
from interviewer.transcript.store import TranscriptStore
from interviewer.tui.app import InterviewerApp
from interviewer.tui.interview import InterviewScreen
from interviewer.tui.report import ReportScreen
from interviewer.tui.review import ReviewListScreen, TranscriptScreen
from interviewer.tui.setup import SetupScreen
from tests.conftest import REPO
from tests.support.failing_saves import FAILURES, read_only
from tests.tui.pilot import settle

EXAMPLE = "20261123-091153-1a34"


def errors(app: InterviewerApp) -> list[str]:
    """The error notifications on screen, as `title: message`."""
    return [f"{n.title}: {n.message}" for n in app._notifications if n.severity == "error"]


def alive(app: InterviewerApp) -> bool:
    return app.is_running and app.return_code is None


def with_example(settings: Settings) -> Path:
    settings.transcripts_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "transcripts" / f"{EXAMPLE}.json", settings.transcripts_dir)
    return settings.transcripts_dir / f"{EXAMPLE}.json"


@asynccontextmanager
async def example_screen(
    settings: Settings,
) -> AsyncIterator[tuple[InterviewerApp, Pilot[None], Path]]:
    """The app with the example transcript open on its review screen, and the file."""
    path = with_example(settings)
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(TranscriptScreen(EXAMPLE, settings=settings, bank=app.bank))
        await settle(pilot)
        assert isinstance(app.screen, TranscriptScreen)
        yield app, pilot, path


@asynccontextmanager
async def interview_started(
    settings: Settings,
) -> AsyncIterator[tuple[InterviewerApp, Pilot[None]]]:
    """The app with a new interview started from the set-up screen, its first question
    on screen."""
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InterviewScreen)
        yield app, pilot


DAMAGED = b'{"version": 99, "id": "x", "turns": "from a newer version"}'


async def test_unreadable_transcript_in_review_is_shown_as_an_error(settings: Settings) -> None:
    path = with_example(settings)
    path.write_bytes(DAMAGED)
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.action_review()
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        await pilot.press("enter")  # the row marked "unreadable"
        await settle(pilot)
        assert alive(app)
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        assert "Cannot open this transcript" in screen.plain
        assert any(EXAMPLE in e for e in errors(app))
        await pilot.press("o", "g", "right")  # nothing to act on: no crash either
        await pilot.press("escape")
        await settle(pilot)
        assert alive(app)
    assert path.read_bytes() == DAMAGED


async def test_failed_override_is_shown_and_the_screen_stays(settings: Settings) -> None:
    async with example_screen(settings) as (app, pilot, path):
        path.write_bytes(DAMAGED)  # changed under the open screen
        await pilot.press("o")
        await pilot.pause()
        await pilot.click("#save")
        await settle(pilot)
        assert alive(app)
        assert isinstance(app.screen, TranscriptScreen)
        assert any(e.startswith("Override not saved") for e in errors(app))
    assert path.read_bytes() == DAMAGED


def kept(settings: Settings) -> Transcript:
    """The one interview kept under the data folder's unsaved/."""
    (path,) = (settings.data_dir / "unsaved").glob(f"{EXAMPLE}-*/{EXAMPLE}.json")
    return TranscriptStore(path.parent).load(EXAMPLE)


@pytest.mark.parametrize(("fail", "reason"), FAILURES)
async def test_an_override_that_cannot_be_saved_is_kept(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    fail: Callable[[pytest.MonkeyPatch], None],
    reason: str,
) -> None:
    async with example_screen(settings) as (app, pilot, path):
        before = path.read_bytes()
        fail(monkeypatch)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("tab", "tab", *"kept note")
        await pilot.click("#save")
        await settle(pilot)
        assert alive(app) and isinstance(app.screen, TranscriptScreen)
        (error,) = [e for e in errors(app) if e.startswith("Override not saved")]
        assert f"{reason}; kept in " in error
    assert path.read_bytes() == before
    assert kept(settings).turns[0].overrides[-1].note == "kept note"


async def test_a_regrade_that_cannot_be_written_is_kept(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with example_screen(settings) as (app, pilot, path):
        before = path.read_bytes()
        read_only(monkeypatch)
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        with pytest.raises(WorkerFailed):  # the app shows the failure (below)
            await screen.regrade("offline").wait()
        await settle(pilot)
        assert alive(app)
        assert any(e.startswith("Re-grade not saved") and "kept in" in e for e in errors(app))
    assert path.read_bytes() == before
    assert kept(settings).turns[0].regrades[-1].judge == "offline"


async def test_export_that_cannot_be_written_is_shown(settings: Settings) -> None:
    with_example(settings)
    blocked = settings.transcripts_dir / f"{EXAMPLE}.report.md"
    blocked.mkdir()  # (a folder in the way: a read-only folder fails alike, but not for root)
    transcript = TranscriptStore(settings.transcripts_dir).load(EXAMPLE)
    assert transcript.report is not None
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        report = transcript.report
        app.push_screen(ReportScreen(EXAMPLE, report, "zh", settings=settings, bank=app.bank))
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert alive(app)
        assert any(e.startswith("Export failed") and str(blocked) in e for e in errors(app))
        await pilot.press("h")  # another format still works
        await settle(pilot)
        assert (settings.transcripts_dir / f"{EXAMPLE}.report.html").is_file()
    assert blocked.is_dir()


async def test_export_to_a_folder_that_is_gone_is_shown(settings: Settings) -> None:
    with_example(settings)
    transcript = TranscriptStore(settings.transcripts_dir).load(EXAMPLE)
    assert transcript.report is not None
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(
            ReportScreen(
                EXAMPLE,
                transcript.report,
                "zh",
                settings=settings,
                bank=app.bank,
            )
        )
        await settle(pilot)
        shutil.rmtree(settings.transcripts_dir)
        await pilot.press("j")
        await settle(pilot)
        assert alive(app)
        assert any(e.startswith("Export failed") for e in errors(app))


async def test_damaged_checkpoint_database_is_shown_on_the_set_up_screen(
    settings: Settings,
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "interviews.sqlite").write_bytes(b"not a database " * 100)
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert alive(app)
        assert isinstance(app.screen, SetupScreen)
        assert any("not a database" in e for e in errors(app))


async def test_sqlite_error_after_a_step_is_shown_not_raised(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from interviewer.interview.session import Session

    async with interview_started(settings) as (app, pilot):
        real = Session.values.fget  # type: ignore[attr-defined]
        calls = {"n": 0}

        def locked(self: Session) -> object:
            """The step itself reads the state 3 times (and saves); reading it back once
            the step is taken fails, as when another process holds the database."""
            calls["n"] += 1
            if calls["n"] > 3:
                raise sqlite3.OperationalError("database is locked")
            return real(self)

        monkeypatch.setattr(Session, "values", property(locked))
        area = app.screen.query_one("#answer", TextArea)
        area.insert("zero_grad, forward, backward, step")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert alive(app)
        assert any("database is locked" in e for e in errors(app))
        # The graph took the answer (it is in the saved transcript), so it is not put back
        # in the box to be sent twice.
        assert area.text == ""
        monkeypatch.undo()
        session = app.session
        assert session is not None
        answers = [m["text"] for m in session.values["messages"] if m["role"] == "candidate"]
        assert answers == ["zero_grad, forward, backward, step"]


async def test_unreadable_transcript_on_resume_is_kept_and_a_new_one_saved(
    settings: Settings,
) -> None:
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.session is not None
        interview_id = app.session.interview_id
    path = settings.transcripts_dir / f"{interview_id}.json"
    path.write_bytes(DAMAGED)

    again = InterviewerApp(settings, resume=interview_id)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, InterviewScreen)
        await pilot.click("#answer")
        await pilot.press(*"draft")
        await pilot.pause(2.0)  # the autosave runs every 1.5 s
        await settle(pilot)
        assert alive(again)
        assert any("kept as" in e and interview_id in e for e in errors(again))
    [kept] = settings.transcripts_dir.glob(f"{interview_id}.unreadable-*.json")
    assert kept.read_bytes() == DAMAGED
    assert TranscriptStore(settings.transcripts_dir).load(interview_id).draft == "draft"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"judge": "gpt4"}, "judge spec 'gpt4'"),
        ({"judge": "openai:gpt-4o-mini"}, "needs an OpenAI API key"),
        ({"persona": "nobody"}, "no persona named 'nobody'"),
        ({"interviewer": "anthropic:claude-x"}, "API key"),
    ],
)
async def test_bad_judge_key_or_persona_is_refused_before_the_first_question(
    settings: Settings, change: dict[str, str], said: str
) -> None:
    ctx = InterviewContext(topics=["coding"], questions=2, seed=1, **change)
    app = InterviewerApp(settings, ctx=ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert alive(app)
        assert isinstance(app.screen, SetupScreen)
        assert any(said in e for e in errors(app)), errors(app)
        assert app.session is None
    assert not settings.transcripts_dir.exists() or not list(settings.transcripts_dir.iterdir())


def test_plain_cli_refuses_a_bad_judge_before_the_first_question(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interviewer.cli.app import app

    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(settings.transcripts_dir))
    monkeypatch.setenv("INTERVIEWER_BANK_DIR", str(REPO))
    args = ["interview", "--plain", "--topic", "coding", "--judge", "gpt4"]
    result = CliRunner().invoke(app, args, input="an answer\n\n")
    assert result.exit_code == 2, result.output
    assert "judge spec 'gpt4'" in result.output
    assert "题" not in result.output  # no question was asked
    assert not settings.transcripts_dir.exists() or not list(settings.transcripts_dir.iterdir())


async def test_an_answer_whose_transcript_cannot_be_saved_is_graded_once_not_offered_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step is taken (the checkpoint holds the graded answer); only the transcript
    failed. The box is not refilled (sending it again would answer the follow-up with it),
    what the step said is shown, and the next save writes the transcript whole."""
    async with interview_started(settings) as (app, pilot):
        read_only(monkeypatch)
        area = app.screen.query_one("#answer", TextArea)
        area.insert("zero_grad, forward, backward, step")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert alive(app)
        (error,) = [e for e in errors(app) if e.startswith("Transcript not saved")]
        assert "Read-only file system" in error
        assert area.text == ""
        monkeypatch.undo()
        area.insert("and the learning rate is scaled")
        await pilot.press("ctrl+s")
        await settle(pilot)
        session = app.session
        assert session is not None
        interview_id = session.interview_id
    saved = TranscriptStore(settings.transcripts_dir).load(interview_id)
    answers = [a.answer for turn in saved.turns for a in turn.attempts]
    if saved.current is not None:
        answers += [a.answer for a in saved.current.attempts]
    assert answers.count("zero_grad, forward, backward, step") == 1
    assert "and the learning rate is scaled" in answers
