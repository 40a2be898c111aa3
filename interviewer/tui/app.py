"""The Textual app: owns the settings, the bank and the open interview; screens do the rest.

set-up ──start──▶ interview ──done──▶ report
   ▲  └─resume──▶     │ (Ctrl+Q: saved, resumable)
   └──── review ◀─────┘
set-up, report ──▶ stats (progress over time, what is due)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.config import Settings
from interviewer.interview import opening
from interviewer.interview.context import InterviewContext
from interviewer.interview.personas import Persona, personas
from interviewer.interview.preflight import check_choices
from interviewer.transcript.unsaved import why_not_saved
from interviewer.tui import messages as msg
from interviewer.tui import prefs
from interviewer.tui.help import HelpScreen
from interviewer.tui.interview import InterviewScreen, Opening
from interviewer.tui.report import ReportScreen
from interviewer.tui.review import ReviewListScreen
from interviewer.tui.setup import SetupScreen

if TYPE_CHECKING:
    # Not imported at start: the session module imports LangGraph (about a second), which
    # a new interview loads in a worker while its first question is already on screen.
    from interviewer.interview.session import Session
    from interviewer.transcript.schema import Report


class InterviewerApp(App[None]):
    TITLE = "interviewer"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        ctx: InterviewContext | None = None,
        resume: str | None = None,
        bank: Bank | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.bank = bank or load_bank(settings.bank_dir)
        self.personas: dict[str, Persona] = personas()
        defaults = prefs.Choices(
            persona=settings.persona,
            lang=settings.lang,
            mode=settings.mode,
            questions=settings.questions,
            judge=settings.judge,
        )
        self.choices = prefs.load(settings.data_dir, defaults)
        self.start_ctx = ctx
        self.start_resume = resume
        self.session: Session | None = None

    def on_mount(self) -> None:
        # When the terminal is closed under `make run`, make keeps the SIGHUP and we are left
        # reading a hung-up terminal (a busy loop): notice and leave. The interview is
        # checkpointed and its draft autosaved, so it can be resumed.
        self.had_terminal = _is_terminal()
        self.set_interval(1.0, self.check_terminal)
        if self.start_resume:
            self.start_interview(None, resume=self.start_resume, replace=False)
        elif self.start_ctx is not None:
            self.start_interview(self.start_ctx, replace=False)
        else:
            self.push_screen(self.setup_screen())

    def check_terminal(self) -> None:
        if self.had_terminal and not _is_terminal():
            self.exit()

    # --- moving between screens -----------------------------------------------------------

    def start_interview(
        self, ctx: InterviewContext | None, resume: str | None = None, replace: bool = True
    ) -> None:
        """A new interview on `ctx`, or the saved one `resume`."""
        self.close_session()
        try:
            if resume is not None:
                self._resume(resume, replace)
                return
            assert ctx is not None
            opening.check_topics(self.bank, ctx)
            check_choices(self.settings, ctx)  # judge, key, persona: now, not at the 1st grade
        except Exception as exc:
            self.cannot_start(exc)
            return
        # The session opens in the screen's worker, the first question already shown.
        interview_id = opening.new_id()
        pending = Opening(interview_id, ctx, partial(self._open, ctx, interview_id))
        self._show(InterviewScreen(pending, self.bank), replace)

    def _open(self, ctx: InterviewContext, interview_id: str) -> Session:
        from interviewer.interview.session import Session

        return Session.open(self.settings, ctx, bank=self.bank, interview_id=interview_id)

    def _resume(self, interview_id: str, replace: bool) -> None:
        from interviewer.interview.session import Session

        session = Session.open(self.settings, None, resume=interview_id, bank=self.bank)
        try:
            check_choices(self.settings, session.ctx)  # (as saved: its judge may need a key)
        except Exception:
            session.close()
            raise
        self.session = session
        # A step a crash cut short runs first (in the screen's worker); the draft is read
        # after it, when the checkpoint says whether the graph had taken it.
        draft = "" if session.step_in_flight() else session.saved_draft()
        self._show(InterviewScreen(session, self.bank, resumed=True, draft=draft), replace)
        session.warm_up_in_background()  # (a new interview warms its judge up in `start`)

    def cannot_start(self, exc: Exception) -> None:
        self.notify(str(exc), title="Cannot start", severity="error")
        if not self.screen_stack or len(self.screen_stack) <= 1:
            self.push_screen(self.setup_screen())
        elif isinstance(self.screen, InterviewScreen):
            self._show(self.setup_screen(), replace=True)

    def show_report(self, session: Session, report: Report | None) -> None:
        report = report or session.standing().report
        if report is None:  # (the graph writes the report as it finishes: not expected)
            self.notify("The interview ended without a report.", severity="error")
            return
        screen = ReportScreen(
            session.interview_id, report, session.ctx.lang, settings=self.settings, bank=self.bank
        )
        try:
            session.save()  # (the last step's save may have failed: one more try)
        except Exception as exc:
            self.notify(
                f"The transcript could not be saved ({why_not_saved(exc)}). Every answer is in the "
                f"checkpoint: `interviewer interview --resume {session.interview_id}` saves it "
                "once its folder can be written.",
                title="Transcript not saved",
                severity="error",
            )
        self.close_session()
        self._show(screen, replace=True)

    def setup_screen(self) -> SetupScreen:
        return SetupScreen(self.settings, self.bank, self.choices, self.personas)

    def _show(self, screen: Screen[None], replace: bool) -> None:
        if replace and len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def close_session(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    # --- what the screens and their workers say ------------------------------------------

    @on(msg.StartInterview)
    def on_start(self, event: msg.StartInterview) -> None:
        if event.choices is not None:
            self.choices = event.choices
        self.start_interview(event.ctx)

    @on(msg.ResumeInterview)
    def on_resume(self, event: msg.ResumeInterview) -> None:
        self.start_interview(None, resume=event.interview_id)

    @on(msg.CannotStart)
    def on_cannot_start(self, event: msg.CannotStart) -> None:
        self.cannot_start(event.error)

    @on(msg.SessionOpened)
    def on_opened(self, event: msg.SessionOpened) -> None:
        self.session = event.session

    @on(msg.InterviewFinished)
    def on_finished(self, event: msg.InterviewFinished) -> None:
        self.show_report(event.session, event.report)

    @on(msg.NewInterview)
    def on_new_interview(self) -> None:
        self.action_new_interview()

    @on(msg.OpenReview)
    def on_open_review(self) -> None:
        self.action_review()

    @on(msg.OpenStats)
    def on_open_stats(self) -> None:
        self.action_stats()

    @on(msg.WorkerFailed)
    def failed(self, event: msg.WorkerFailed) -> None:
        """The one place a failed worker (`exit_on_error=False`) is shown."""
        self.notify(event.text, title=event.title, severity="error")

    # --- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_new_interview(self) -> None:
        self.close_session()
        self._show(self.setup_screen(), replace=True)

    def action_review(self) -> None:
        self.push_screen(ReviewListScreen(self.settings, self.bank))

    def action_stats(self) -> None:
        from interviewer.tui.stats import StatsScreen

        if not isinstance(self.screen, StatsScreen):
            self.push_screen(StatsScreen(self.settings, self.bank))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New interview", "Go to the set-up screen", self.action_new_interview)
        yield SystemCommand("Review transcripts", "Replay, override, re-grade", self.action_review)
        yield SystemCommand(
            "Progress", "Scores per topic over time, and what is due", self.action_stats
        )
        yield SystemCommand("Help", "Keys of every screen", self.action_help)

    def on_unmount(self) -> None:
        self.close_session()


def _is_terminal() -> bool:
    try:
        return os.isatty(sys.__stdin__.fileno()) if sys.__stdin__ else False
    except (OSError, ValueError):
        return False
