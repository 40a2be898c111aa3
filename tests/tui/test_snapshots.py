"""Snapshots of every screen at 100x30 (pytest-textual-snapshot; update with
`pytest tests/tui/test_snapshots.py --snapshot-update` and review the SVGs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from interviewer.config import Settings
from interviewer.judge import text
from interviewer.tui.app import InterviewerApp
from interviewer.tui.interview import InterviewScreen
from tests.tui.pilot import settle

SIZE = (100, 30)
ANSWER = "训练循环：optimizer.zero_grad() 清梯度，前向算 loss，loss.backward() 反向传播，optimizer.step() 更新。"
TOP_P = (
    "先把 logits 除以温度 T 再 softmax，T=0 单独走 argmax。然后按概率降序排序，做 cumsum，"
    "保留累计概率达到 top_p 的最小集合，其余置为 -inf，再重新归一化，用 torch.multinomial 采样。"
)

Before = Callable[[Pilot[None]], Awaitable[None]]


@pytest.fixture
def app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> InterviewerApp:
    """Fixed id, clock, seed and timestamps, so that a screen renders the same every time."""
    monkeypatch.setattr("interviewer.interview.opening.new_id", lambda: "20261123-snapshot")
    for clock in ("session", "nodes", "opening"):  # (answer times: the review items' due times)
        monkeypatch.setattr(
            f"interviewer.interview.{clock}.now", lambda: "2026-11-23T09:00:00+00:00"
        )
    monkeypatch.setattr("interviewer.tui.setup.secrets.randbelow", lambda n: 7)
    monkeypatch.setattr(
        "interviewer.practice.due.utcnow", lambda: datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    )
    # The offline judge segments Chinese with the terms of every bank this process has
    # graded: other tests' banks would change the grades shown. This app learns only its own.
    monkeypatch.setattr(text, "_segmenter", text.Segmenter())
    for clear in text._TERM_DEPENDENT:
        clear()
    monkeypatch.setattr(InterviewScreen, "clock", staticmethod(lambda: 0.0))
    monkeypatch.setattr(InterviewScreen, "cursor_blink", False)
    return InterviewerApp(settings)


async def answer(pilot: Pilot[None], text: str = ANSWER) -> None:
    pilot.app.screen.query_one("#answer", TextArea).insert(text)
    await pilot.press("ctrl+s")
    await settle(pilot, paint=0.5)


async def start(pilot: Pilot[None]) -> None:
    await settle(pilot, paint=0.5)
    await pilot.press("ctrl+s")
    await settle(pilot, paint=0.5)


async def graded(pilot: Pilot[None]) -> None:
    await start(pilot)
    await answer(pilot)


async def finished(pilot: Pilot[None]) -> None:
    await start(pilot)
    for _ in range(6):
        if not isinstance(pilot.app.screen, InterviewScreen):
            break
        await answer(pilot)


async def replay(pilot: Pilot[None]) -> None:
    await finished(pilot)
    await pilot.press("r")
    await settle(pilot, paint=0.5)
    await pilot.press("enter")
    await settle(pilot, paint=0.5)


async def review_list(pilot: Pilot[None]) -> None:
    await finished(pilot)
    await pilot.press("r")
    await settle(pilot, paint=0.5)


async def evidence(pilot: Pilot[None]) -> None:
    await start(pilot)
    await answer(pilot, TOP_P)  # (the first question at seed 7 is code-top-p-sampling)
    await pilot.press("ctrl+o")
    await pilot.pause()


async def reference(pilot: Pilot[None]) -> None:
    await graded(pilot)
    await pilot.press("ctrl+e")
    await settle(pilot, paint=0.5)


async def stats(pilot: Pilot[None]) -> None:
    await finished(pilot)
    await pilot.press("s")
    await settle(pilot, paint=0.5)


async def help_screen(pilot: Pilot[None]) -> None:
    await settle(pilot, paint=0.5)
    await pilot.press("question_mark")
    await pilot.pause()


SCREENS: dict[str, Before] = {
    "setup": settle,
    "interview": start,
    "interview_graded": graded,
    "interview_evidence": evidence,
    "reference": reference,
    "report": finished,
    "review_list": review_list,
    "review_replay": replay,
    "stats": stats,
    "help": help_screen,
}


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(name: str, app: InterviewerApp, snap_compare: Any) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=SCREENS[name])
