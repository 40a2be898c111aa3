"""Set-up screen: what to practise, with whom, in which language, graded by which judge."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    SelectionList,
)
from textual.widgets.option_list import Option

from interviewer.tui import prefs
from interviewer.tui.messages import OpenReview, OpenStats, ResumeInterview, StartInterview

if TYPE_CHECKING:
    from interviewer.bank.bank import Bank
    from interviewer.config import Settings
    from interviewer.interview.personas import Persona


class SetupScreen(Screen[None]):
    """Choose and start an interview, or resume an unfinished one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("ctrl+r", "review", "Review"),
        Binding("ctrl+g", "stats", "Progress"),
    ]

    def __init__(
        self, settings: Settings, bank: Bank, choices: prefs.Choices, personas: dict[str, Persona]
    ) -> None:
        super().__init__()
        self.settings = settings
        self.bank = bank
        self.choices = choices
        self.personas = personas

    def compose(self) -> ComposeResult:
        choices, personas = self.choices, self.personas
        topics = self.bank.topics()
        judges = [("offline (no network)", "offline")]
        if self.settings.judge != "offline":
            judges.append((self.settings.judge, self.settings.judge))
        if choices.judge not in {v for _, v in judges}:
            judges.append((choices.judge, choices.judge))
        yield Header()
        with Horizontal(id="setup"):
            with VerticalScroll(id="choices"):
                yield Label("Topics (none ticked: all)", classes="field")
                yield SelectionList[str](
                    *[(t, t, t in choices.topics) for t in topics], id="topics"
                )
                with Horizontal(classes="row"):
                    with Vertical():
                        yield Label("Difficulty", classes="field")
                        yield Select(
                            [
                                ("adaptive", 0),
                                ("1 junior", 1),
                                ("2 mid", 2),
                                ("3 senior", 3),
                            ],
                            value=choices.difficulty or 0,
                            allow_blank=False,
                            id="difficulty",
                        )
                    with Vertical():
                        yield Label("Questions", classes="field")
                        yield Input(
                            str(choices.questions), type="integer", id="questions", max_length=2
                        )
                    with Vertical():
                        yield Label("Follow-ups", classes="field")
                        yield Select(
                            [(str(n), n) for n in range(0, 4)],
                            value=min(choices.follow_ups, 3),
                            allow_blank=False,
                            id="follow_ups",
                        )
                with Horizontal(classes="row"):
                    with Vertical():
                        yield Label("Persona", classes="field")
                        yield Select(
                            [(p.title.get(choices.lang), name) for name, p in personas.items()],
                            value=choices.persona if choices.persona in personas else "senior",
                            allow_blank=False,
                            id="persona",
                        )
                    with Vertical():
                        yield Label("Language", classes="field")
                        yield Select(
                            [("中文", "zh"), ("English", "en")],
                            value=choices.lang,
                            allow_blank=False,
                            id="lang",
                        )
                    with Vertical():
                        yield Label("Mode (exam: grades at the end)", classes="field")
                        yield Select(
                            [
                                ("practice", "practice"),
                                ("exam", "exam"),
                            ],
                            value=choices.mode,
                            allow_blank=False,
                            id="mode",
                        )
                yield Label("Judge", classes="field")
                yield Select(judges, value=choices.judge, allow_blank=False, id="judge")
                yield Button("Start interview  (Ctrl+S)", variant="primary", id="start")
            with Vertical(id="resume-panel"):
                yield Label("Unfinished interviews (Enter to resume)", classes="field")
                yield OptionList(id="resume")
                yield Button("Practise what is due", id="due")
                yield Button("Progress  (Ctrl+G)", id="stats")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "interviewer"
        self.sub_title = "new interview"
        self.query_one("#start", Button).focus()
        self.refresh_unfinished()

    def on_screen_resume(self) -> None:
        self.refresh_unfinished()

    def refresh_unfinished(self) -> None:
        from interviewer.interview.session import unfinished

        options = self.query_one("#resume", OptionList)
        options.clear_options()
        try:
            pending = unfinished(self.settings)
        except Exception as exc:  # an unreadable folder: say so, the set-up still works
            self.notify(str(exc), title="Cannot list unfinished interviews", severity="error")
            pending = []
        for t in pending:
            label = f"{t.id}  {t.updated[:16].replace('T', ' ')}  {len(t.turns)} answered"
            options.add_option(Option(label, id=t.id))
        if not pending:
            options.add_option(Option("(none)", id="", disabled=True))

    def read_choices(self) -> prefs.Choices:
        topics = list(self.query_one("#topics", SelectionList).selected)
        raw = self.query_one("#questions", Input).value.strip()
        questions = max(1, min(50, int(raw))) if raw.isdigit() and int(raw) > 0 else 5
        difficulty = self.query_one("#difficulty", Select).value
        return prefs.Choices(
            topics=topics,
            difficulty=_int(difficulty) or None,
            questions=questions,
            persona=str(self.query_one("#persona", Select).value),
            lang=str(self.query_one("#lang", Select).value),
            mode=str(self.query_one("#mode", Select).value),
            judge=str(self.query_one("#judge", Select).value),
            follow_ups=_int(self.query_one("#follow_ups", Select).value),
        )

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        choices = self.read_choices()
        settings = self.settings
        try:
            prefs.save(settings.data_dir, choices)
        except OSError as exc:  # not remembered for next time; the interview still starts
            self.notify(
                f"cannot save your choices in {settings.data_dir}: {exc.strerror or exc}",
                severity="warning",
            )
        ctx = prefs.to_context(choices, secrets.randbelow(1_000_000), settings.interviewer)
        self.post_message(StartInterview(ctx, choices))

    @on(Button.Pressed, "#due")
    def start_due(self) -> None:
        """An interview of the questions whose review items are due (`interviewer --due`)."""
        from interviewer.practice.due import Practice, plan_due

        choices = self.read_choices()
        try:
            plan, message = plan_due(
                Practice.of_settings(self.settings), self.bank, topics=[], limit=choices.questions
            )
        except Exception as exc:  # a damaged review-items file (or row), or no database
            self.notify(str(exc), title="Cannot read the review items", severity="error")
            return
        if not plan:
            self.notify(message, title="Nothing due")
            return
        ctx = prefs.to_context(choices, secrets.randbelow(1_000_000), self.settings.interviewer)
        self.post_message(
            StartInterview(ctx.model_copy(update={"review": plan, "questions": len(plan)}))
        )

    @on(OptionList.OptionSelected, "#resume")
    def resume(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.post_message(ResumeInterview(event.option.id))

    def action_review(self) -> None:
        self.post_message(OpenReview())

    @on(Button.Pressed, "#stats")
    def action_stats(self) -> None:
        self.post_message(OpenStats())


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0
