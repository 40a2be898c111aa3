"""The TUI in a real terminal: tmux starts `interviewer`, keys answer a question, and the
pane shows the grade."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (`make test` installs it)"
)


def pane(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def wait_for(session: str, text: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = pane(session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the pane shows:\n{screen}")


def test_answer_a_question_in_tmux(tmp_path: Path) -> None:
    session = f"interviewer-test-{os.getpid()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INTERVIEWER_", "TMUX"))},
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "INTERVIEWER_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
    }
    command = (
        f"{sys.executable} -m interviewer --topic coding --questions 2 --follow-ups 0 "
        "--lang en --seed 3"
    )
    subprocess.run(
        ["tmux", "-u", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command],
        check=True,
        env=env,
        cwd=REPO,
    )
    try:
        wait_for(session, "Question 1/2")
        answer = "zero_grad clears the gradients, then forward, loss, backward and step."
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", answer], check=True)
        subprocess.run(["tmux", "send-keys", "-t", session, "C-s"], check=True)
        # With no follow-ups the grade and the next question come in one step; the grade's
        # first line ("Score: N/100") may already have scrolled up, its key-point marks not.
        screen = wait_for(session, "Question 2/2")
        assert any(mark in screen for mark in "✓~✗"), "the pane shows the grade"
        (saved,) = (tmp_path / "transcripts").glob("*.json")
        turn = json.loads(saved.read_text(encoding="utf-8"))["turns"][0]
        attempt = turn["attempts"][0]
        assert attempt["answer"] == answer, "the whole answer was submitted, in one piece"
        assert 0 <= attempt["grade"]["score"] <= 100
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
