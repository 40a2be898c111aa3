"""The side panel's running grade and checklist, Ctrl+O (evidence) and Ctrl+E (reference),
in practice and exam modes (issue 14 items 1, 3 and 5)."""

from __future__ import annotations

import re

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from interviewer.bank.loader import Bank, load_bank
from interviewer.config import Settings
from interviewer.interview.context import InterviewContext
from interviewer.judge import progress
from interviewer.tui.app import InterviewerApp
from interviewer.tui.interview import InterviewScreen, ReferenceScreen
from tests.conftest import REPO
from tests.tui.pilot import settle

FIRST = "LoRA 的核心是低秩分解：把权重更新 ΔW 写成 BA 两个小矩阵的乘积，秩 r 很小。"
SECOND = "预训练权重 W0 冻结不动，只训练 A 和 B；推理时把 BA 合并回 W0，不增加推理延迟。"


@pytest.fixture(scope="module")
def lora_bank() -> Bank:
    """One question (lora-principle), whose rubric has no titles: the fallback is shown."""
    return load_bank(REPO / "tests" / "data" / "bank")


async def answer(pilot: Pilot[None], text: str) -> None:
    area = pilot.app.screen.query_one("#answer", TextArea)
    area.text = text
    await pilot.press("ctrl+s")
    await settle(pilot)


def panel(app: InterviewerApp, widget: str) -> str:
    return str(app.screen.query_one(widget, Static).render())


def shown_score(app: InterviewerApp) -> float:
    match = re.search(r"Score (\d+)/100", panel(app, "#score"))
    assert match, panel(app, "#score")
    return float(match.group(1))


def context(mode: str) -> InterviewContext:
    return InterviewContext(
        topics=["lora"],
        questions=1,
        follow_up_limit=2,
        mode=mode,
        seed=1,  # type: ignore[arg-type]
    )


async def test_practice_panel_running_grade_checklist_and_reference(
    settings: Settings, lora_bank: Bank
) -> None:
    rubric = lora_bank.rubric("lora-principle")
    titles = [progress.title(kp, "zh") for kp in rubric.key_points]
    app = InterviewerApp(settings, ctx=context("practice"), bank=lora_bank)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InterviewScreen)
        # Before an answer: the number of key points, and nothing that names them.
        before = panel(app, "#checklist")
        assert before.strip() == f"{len(rubric.key_points)} key points"
        assert not any(kp.id in before for kp in rubric.key_points)
        assert panel(app, "#score") == ""
        await pilot.press("ctrl+e")  # not before grading
        await settle(pilot)
        assert not isinstance(app.screen, ReferenceScreen)

        await answer(pilot, FIRST)
        after_first = shown_score(app)
        checklist = panel(app, "#checklist")
        assert "✔" in checklist and "✘" in checklist
        assert all(t in checklist for t in titles), "each point's title with its mark"
        assert not any(kp.id in checklist for kp in rubric.key_points)
        assert "“" not in checklist, "the quotes are shown on demand only"
        assert "+" in panel(app, "#score")
        assert app.session is not None and app.session.values["current"]["probed"], (
            "a follow-up was asked"
        )

        await pilot.press("ctrl+o")  # the quoted evidence
        assert "“" in panel(app, "#checklist")
        await pilot.press("ctrl+o")
        assert "“" not in panel(app, "#checklist")

        await answer(pilot, SECOND)  # answers the follow-up with points the first missed
        assert isinstance(app.screen, InterviewScreen)
        after_second = shown_score(app)
        assert after_second >= after_first, "a follow-up that adds a point never lowers it"
        assert after_second > after_first
        added = panel(app, "#score").split("last answer", 1)[1]
        assert re.search(r"\+[1-9]\d* key points?", added), added
        # The marks of the first answer stay: the panel shows the question, not the answer.
        assert panel(app, "#checklist").count("✔") >= checklist.count("✔") + 1

        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(app.screen, ReferenceScreen)
        reference = str(app.screen.query_one("#reference", Static).render())
        for kp in rubric.key_points:
            assert progress.title(kp, "zh") in reference
            assert kp.text.zh in reference
        assert "你漏了" in reference
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InterviewScreen)


async def test_exam_mode_shows_no_checklist_grade_or_reference(
    settings: Settings, lora_bank: Bank
) -> None:
    rubric = lora_bank.rubric("lora-principle")
    app = InterviewerApp(settings, ctx=context("exam"), bank=lora_bank)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InterviewScreen)
        assert not app.screen.query("#checklist") and not app.screen.query("#score")
        await answer(pilot, FIRST)
        assert isinstance(app.screen, InterviewScreen)
        assert not app.screen.query("#checklist") and not app.screen.query("#score")
        side = " ".join(str(w.render()) for w in app.screen.query("#side Static"))
        log = " ".join(str(w.render()) for w in app.screen.query(".msg"))
        for kp in rubric.key_points:
            assert progress.title(kp, "zh") not in side + log
        assert "得分" not in log
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert not isinstance(app.screen, ReferenceScreen), "exam: no reference before the end"
        await pilot.press("ctrl+o")
        assert not app.screen.query("#checklist")
