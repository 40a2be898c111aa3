"""The TUI under Textual's pilot, in a process of its own, for test_kill_resume_tui.

    python -m tests.interview.tui_child STATE new|ID ANSWERS_JSON

Starts a 2-question lora interview (`new`) or resumes interview ID, and writes what the
screen shows once it is ready to STATE (JSON: id, the answer box, the conversation). Then
it submits each of ANSWERS in turn with Ctrl+S, each typed into the answer box and
autosaved as a draft first; "" submits what the box already holds, and "!kill:TEXT" types
TEXT, waits for its autosave and SIGKILLs the process without submitting. Each answer is
submitted when the screen is ready for it; with INTERVIEWER_TEST_KILL_AT set the process
may die anywhere on the way (interviewer.interview.testhooks).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import TextArea

from interviewer.config import load_settings
from interviewer.interview.context import InterviewContext
from interviewer.transcript.store import TranscriptStore
from interviewer.tui.app import InterviewerApp
from interviewer.tui.interview import InterviewScreen


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def main(state: Path, start: str, answers: list[str]) -> None:
    settings = load_settings()
    if start == "new":
        ctx = InterviewContext(questions=2, topics=["lora"], seed=7, follow_up_limit=1)
        app = InterviewerApp(settings, ctx=ctx)
    else:
        app = InterviewerApp(settings, resume=start)
    store = TranscriptStore(settings.transcripts_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        area = screen.query_one("#answer", TextArea)
        shown = [str(w.render()) for w in screen.query(".msg")]
        state.write_text(
            json.dumps({"id": screen.interview_id, "box": area.text, "shown": shown}), "utf-8"
        )
        for entry in answers:
            if not isinstance(app.screen, InterviewScreen):
                break
            kill = entry.startswith("!kill:")
            answer = entry.removeprefix("!kill:")
            if answer:
                area.text = ""
                area.insert(answer)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:  # until the autosave has it
                    await pilot.pause(0.1)
                    saved = store.exists(screen.interview_id)
                    if saved and store.load(screen.interview_id).draft == answer:
                        break
            if kill:
                os.kill(os.getpid(), signal.SIGKILL)
            await pilot.press("ctrl+s")
            await settle(pilot)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])))
