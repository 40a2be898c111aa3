"""The Textual app: owns the settings, the bank and the open interview; screens do the rest.

set-up ──start──▶ interview ──done──▶ report
   ▲  └─resume──▶     │ (Ctrl+Q: saved, resumable)
   └──── review ◀─────┘
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from interviewer.bank.loader import Bank, load_bank
from interviewer.config import Settings
from interviewer.interview.context import InterviewContext
from interviewer.interview.personas import Persona, personas
from interviewer.interview.session import Session
from interviewer.tui import prefs
from interviewer.tui.help import HelpScreen
from interviewer.tui.interview import InterviewScreen
from interviewer.tui.report import ReportScreen
from interviewer.tui.review import ReviewListScreen
from interviewer.tui.setup import SetupScreen


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
            self.push_screen(SetupScreen())

    def check_terminal(self) -> None:
        if self.had_terminal and not _is_terminal():
            self.exit()

    # --- moving between screens -----------------------------------------------------------

    def start_interview(
        self, ctx: InterviewContext | None, resume: str | None = None, replace: bool = True
    ) -> None:
        self.close_session()
        try:
            session = Session.open(self.settings, ctx, resume=resume, bank=self.bank)
        except Exception as exc:
            self.notify(str(exc), title="Cannot start", severity="error")
            if not self.screen_stack or len(self.screen_stack) <= 1:
                self.push_screen(SetupScreen())
            return
        self.session = session
        draft = ""
        if resume:
            from interviewer.transcript.store import TranscriptStore

            try:
                draft = TranscriptStore(self.settings.transcripts_dir).load(resume).draft
            except Exception:
                draft = ""
        screen = InterviewScreen(session, resumed=bool(resume), draft=draft)
        self._show(screen, replace)
        if resume:  # a new interview warms its judge up in `start`
            session.warm_up_in_background()

    def show_report(self, session: Session) -> None:
        report = session.values.get("report") or {}
        screen = ReportScreen(session.interview_id, report, session.ctx.lang)
        self.close_session()
        self._show(screen, replace=True)

    def _show(self, screen: Screen[None], replace: bool) -> None:
        if replace and len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def close_session(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    # --- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_new_interview(self) -> None:
        self.close_session()
        self._show(SetupScreen(), replace=True)

    def action_review(self) -> None:
        self.push_screen(ReviewListScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New interview", "Go to the set-up screen", self.action_new_interview)
        yield SystemCommand("Review transcripts", "Replay, override, re-grade", self.action_review)
        yield SystemCommand("Help", "Keys of every screen", self.action_help)

    def on_unmount(self) -> None:
        self.close_session()


def _is_terminal() -> bool:
    try:
        return os.isatty(sys.__stdin__.fileno()) if sys.__stdin__ else False
    except (OSError, ValueError):
        return False
