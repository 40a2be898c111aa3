"""kill -9 on the TUI's submit path, then resume in the TUI: the answer sent is graded once
and never put back in the answer box as unsent; an answer typed but not sent is.

Each run is a process of its own driving the TUI with Textual's pilot
(tests/interview/tui_child.py): a 2-question lora interview with a follow-up each, offline
judge, scripted voice, seeded. The first answer is killed at each point from the moment
it is sent (its move saved, twice, then each step's checkpoint up to the follow-up asked),
and once just before it is sent; then the interview is resumed and finished.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.interview.test_kill_resume import comparable, env

ANSWERS = [
    "LoRA 冻结预训练权重 W0，只训练两个低秩矩阵 A 和 B，ΔW = BA。",
    "推理时可以把 BA 合并回 W0，不增加推理延迟。",
    "我们用 Qwen 做客服微调，LoRA rank 16。",
    "验证集按场景分层抽样。",
]


def child(
    tmp: Path, start: str, answers: list[str], kill_at: str = ""
) -> tuple[int, dict[str, Any]]:
    state = tmp / f"state-{start}.json"
    extra = {"INTERVIEWER_TEST_KILL_AT": kill_at} if kill_at else {}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.interview.tui_child", str(state), start, json.dumps(answers)],
        capture_output=True,
        text=True,
        cwd=tmp,
        env={**env(tmp, **extra), "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, -9), proc.stdout + proc.stderr
    return proc.returncode, json.loads(state.read_text("utf-8"))


def final_transcript(tmp: Path, interview_id: str) -> dict[str, Any]:
    path = tmp / "data" / "interviewer" / "transcripts" / f"{interview_id}.json"
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("tui-reference")
    code, state = child(tmp, "new", ANSWERS)
    assert code == 0
    final = final_transcript(tmp, state["id"])
    assert final["finished"] and [len(t["attempts"]) for t in final["turns"]] == [2, 2]
    return final


@pytest.mark.parametrize(
    "point",
    ["before-send", "resume:1", "resume:2", *(f"checkpoint:{n}" for n in range(5, 9))],
)
def test_kill_on_the_tui_submit_path_then_resume(
    tmp_path: Path, reference: dict[str, Any], point: str
) -> None:
    sent = point != "before-send"
    first = [ANSWERS[0]] if sent else [f"!kill:{ANSWERS[0]}"]
    code, started = child(tmp_path, "new", first, kill_at=point if sent else "")
    assert code == -9, f"not killed at {point}"

    rest = ANSWERS[1:] if sent else ["", *ANSWERS[1:]]  # "": send what the box holds
    code, resumed = child(tmp_path, started["id"], rest)
    assert code == 0
    follow_up = reference["turns"][0]["follow_ups"][0]["text"]
    shown = resumed["shown"]
    if sent:
        assert resumed["box"] == "", f"the answer sent is back in the box after a kill at {point}"
        assert any(follow_up in m for m in shown), "the step cut short ran: the follow-up asked"
        assert any("得分" in m for m in shown), "and the grade shown"
    else:
        assert resumed["box"] == ANSWERS[0], "the answer typed but not sent is kept"
        assert not any(follow_up in m for m in shown)

    final = final_transcript(tmp_path, started["id"])
    assert final["finished"] is True and final["draft"] == ""
    assert [a["answer"] for t in final["turns"] for a in t["attempts"]] == ANSWERS
    said = [m["text"] for m in final["messages"] if m["role"] == "candidate"]
    assert said == ANSWERS, "every answer once, in order"
    assert comparable(final) == comparable(reference)


async def test_a_hint_keeps_the_answer_being_typed_saved(tmp_path: Path) -> None:
    """The transcript written after a hint still holds the answer in the box (it was saved
    as "" until the next keystroke, so a kill then lost it)."""
    from textual.widgets import TextArea

    from interviewer.config import load_settings
    from interviewer.interview.context import InterviewContext
    from interviewer.transcript.store import TranscriptStore
    from interviewer.tui.app import InterviewerApp
    from interviewer.tui.interview import InterviewScreen
    from tests.interview.tui_child import settle

    settings = load_settings(transcripts_dir=tmp_path / "t")
    ctx = InterviewContext(questions=1, topics=["lora"], seed=7, follow_up_limit=1)
    app = InterviewerApp(settings, ctx=ctx)
    store = TranscriptStore(settings.transcripts_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        screen.query_one("#answer", TextArea).insert(ANSWERS[0])
        await pilot.pause(2.0)  # the autosave runs every 1.5 s
        await settle(pilot)
        assert store.load(screen.interview_id).draft == ANSWERS[0]
        await pilot.press("ctrl+t")
        await settle(pilot)
        saved = store.load(screen.interview_id)
        assert saved.current is not None and saved.current.hinted, "the hint was given"
        assert saved.draft == ANSWERS[0]
