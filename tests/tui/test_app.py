"""The TUI driven by keyboard alone through Textual's pilot, with the offline judge."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from interviewer.config import Settings
from interviewer.interview.context import InterviewContext
from interviewer.interview.session import Session
from interviewer.transcript.marks import Mark
from interviewer.transcript.store import TranscriptStore
from interviewer.tui.app import InterviewerApp
from interviewer.tui.interview import InterviewScreen
from interviewer.tui.report import ReportScreen
from interviewer.tui.review import ReviewListScreen, TranscriptScreen
from interviewer.tui.setup import SetupScreen
from tests.tui.pilot import settle

ANSWER = (
    "训练循环里先 optimizer.zero_grad() 清空梯度，再前向计算输出和 loss，"
    "然后 loss.backward() 反向传播，最后 optimizer.step() 更新参数。"
)


def messages(app: InterviewerApp) -> list[str]:
    return [str(w.render()) for w in app.screen.query(".msg")]


async def type_and_submit(pilot: Pilot[None], text: str) -> None:
    await pilot.click("#answer")
    area = pilot.app.screen.query_one("#answer", TextArea)
    area.insert(text)  # a paste: typing it key by key adds nothing but time
    await pilot.press("enter", *"ok")  # Enter makes a new line, not a submit
    assert area.text.endswith("\nok")
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_whole_interview_of_two_questions_by_keyboard(settings: Settings) -> None:
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen)
        await pilot.press("ctrl+s")  # the remembered choices: 2 coding questions
        await settle(pilot)
        assert isinstance(app.screen, InterviewScreen)
        assert any("第一题" in m or "题" in m for m in messages(app))

        await type_and_submit(pilot, ANSWER)
        shown = messages(app)
        assert any(m.startswith("you") and "zero_grad" in m for m in shown)
        assert any("得分" in m for m in shown), "practice mode shows the grade"
        checklist = str(app.screen.query_one("#checklist", Static).render())
        assert any(mark.glyph in checklist for mark in Mark)
        assert "/100" in str(app.screen.query_one("#score", Static).render())

        for _ in range(6):  # follow-ups and the second question
            if not isinstance(app.screen, InterviewScreen):
                break
            await type_and_submit(pilot, ANSWER)
        assert isinstance(app.screen, ReportScreen)
        report = app.screen.report
        assert len(report.questions) == 2

    store = TranscriptStore(settings.transcripts_dir)
    (interview_id,) = store.ids()
    transcript = store.load(interview_id)
    assert transcript.finished and len(transcript.turns) == 2
    assert transcript.report == report  # the report shown is the one saved
    assert transcript.turns[0].attempts[0].answer.startswith(ANSWER)


async def test_hint_and_skip(settings: Settings) -> None:
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        before = len(messages(app))
        await pilot.press("ctrl+t")
        await settle(pilot)
        hints = app.screen.query(".msg.hint")
        assert len(hints) == 1 and len(messages(app)) > before
        first = app.session
        assert first is not None and first.values["current"]["hinted"]

        await pilot.press("ctrl+n")
        await settle(pilot)
        finished = first.values["finished"]
        assert finished[0]["skipped"] is True
        assert len(app.screen.query(".msg.question")) == 2, "the second question is asked"


async def test_submit_waits_for_keys_still_queued_in_the_answer_box(settings: Settings) -> None:
    """A fast typist (or a terminal paste) can press Ctrl+S while the answer box still has
    keys in its queue; the whole answer is submitted, and nothing spills into the next box."""
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#answer")
        typed = "zero_grad, forward, loss, backward, step"
        # As a terminal delivers them: every key reaches the app before any is handled.
        for ch in typed:
            app.post_message(events.Key(ch, ch))
        app.post_message(events.Key("ctrl+s", None))
        await settle(pilot)
        session = app.session
        assert session is not None
        first = session.values["current"] or session.values["finished"][0]
        assert first["attempts"][0]["answer"] == typed
        assert app.screen.query_one("#answer", TextArea).text == ""


async def test_draft_is_autosaved_and_restored_on_resume(settings: Settings) -> None:
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#answer")
        await pilot.press(*"half an answer")
        await pilot.pause(2.0)  # the autosave runs every 1.5 s
        await settle(pilot)
        session = app.session
        assert session is not None
        interview_id = session.interview_id
    store = TranscriptStore(settings.transcripts_dir)
    assert store.load(interview_id).draft == "half an answer"

    again = InterviewerApp(settings, resume=interview_id)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, InterviewScreen)
        assert again.screen.query_one("#answer", TextArea).text == "half an answer"
        assert any("题" in m for m in messages(again)), "the question is shown again"
        await pilot.press(*" and the rest")  # typing goes on after the draft, not before it
        await settle(pilot)
        assert again.screen.query_one("#answer", TextArea).text == "half an answer and the rest"


async def test_review_override_by_keyboard(settings: Settings, tmp_path: Path) -> None:
    app = InterviewerApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        for _ in range(6):
            if not isinstance(app.screen, InterviewScreen):
                break
            await type_and_submit(pilot, ANSWER)
        assert isinstance(app.screen, ReportScreen)
        await pilot.press("m")  # export Markdown
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TranscriptScreen)
        interview_id = app.screen.interview_id
        turn = app.screen.transcript.turns[0]  # type: ignore[union-attr]
        first_kp = turn.merged.verdicts[0]
        wanted = "missed" if first_kp.verdict != "missed" else "covered"
        await pilot.press("o")
        await pilot.pause()
        # key point: the first (already chosen); verdict: open the list and pick
        await pilot.press("tab")
        await pilot.press("enter")
        options = ["covered", "partial", "missed"]
        for _ in range(options.index(wanted)):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.press("tab", *"reviewer note")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TranscriptScreen)
        assert "overridden" in app.screen.plain
        assert "reviewer note" in app.screen.plain

    data = json.loads((settings.transcripts_dir / f"{interview_id}.json").read_text("utf-8"))
    overrides = data["turns"][0]["overrides"]
    assert overrides[0]["key_point"] == first_kp.key_point
    assert overrides[0]["verdict"] == wanted and overrides[0]["note"] == "reviewer note"
    assert (settings.transcripts_dir / f"{interview_id}.report.md").exists()


async def test_first_question_is_shown_while_the_session_opens(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The opening is on screen before LangGraph and the session are ready; an answer sent
    meanwhile goes in once they are; the graph's own opening is not shown twice."""
    ready = threading.Event()
    real_open = InterviewerApp._open

    def slow_open(self: InterviewerApp, ctx: InterviewContext, interview_id: str) -> Session:
        assert ready.wait(30)
        return real_open(self, ctx, interview_id)

    monkeypatch.setattr(InterviewerApp, "_open", slow_open)
    ctx = InterviewContext(topics=["coding"], questions=2, seed=5, lang="en")
    app = InterviewerApp(settings, ctx=ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.session is None, "the session is still opening"
        before = messages(app)
        assert len(app.screen.query(".msg.question")) == 1
        assert "Question 1/2" in str(app.screen.query_one("#question-info", Static).render())

        app.screen.query_one("#answer", TextArea).insert("zero_grad, forward, backward, step")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.session is None
        ready.set()
        await settle(pilot)

        session = app.session
        assert session is not None
        said = [m for m in session.values["messages"] if m["role"] == "interviewer"]
        assert [m["text"] for m in said[:2]] == [m.removeprefix("» ") for m in before]
        assert messages(app)[: len(before)] == before, "the opening is shown once"
        current = session.values["current"] or session.values["finished"][0]
        assert current["attempts"][0]["answer"] == "zero_grad, forward, backward, step"
