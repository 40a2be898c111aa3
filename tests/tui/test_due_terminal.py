"""`interviewer --due` in a real terminal (tmux), after an interview with missed points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from interviewer.bank.loader import load_bank
from tests.conftest import REPO
from tests.tui.test_terminal import pytestmark, wait_for

__all__ = ["pytestmark"]


def test_due_after_an_interview_with_missed_points(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INTERVIEWER_", "TMUX"))},
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "INTERVIEWER_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
    }
    # 1. An interview (plain mode) whose answer misses most key points.
    first = subprocess.run(
        [
            *(sys.executable, "-m", "interviewer", "--plain", "--topic", "lora"),
            *("--questions", "1", "--follow-ups", "0", "--lang", "en", "--seed", "5"),
        ],
        input="It adds a few small trainable matrices to the model.\n\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    (saved,) = (tmp_path / "transcripts").glob("2*.json")
    asked = json.loads(saved.read_text("utf-8"))["turns"][0]["question_id"]
    prompt = load_bank(REPO).question(asked).prompt.get("en")
    # 2. `--due` in the TUI asks that question again, straight away (no set-up screen).
    session = f"interviewer-due-{os.getpid()}"
    command = f"{sys.executable} -m interviewer --due --lang en --follow-ups 0"
    subprocess.run(
        ["tmux", "-u", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", command],
        check=True,
        env=env,
        cwd=REPO,
    )
    try:
        screen = wait_for(session, "Question 1/1")
        assert prompt[:30] in screen.replace("\n", ""), screen
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "I do not know."], check=True)
        subprocess.run(["tmux", "send-keys", "-t", session, "C-s"], check=True)
        wait_for(session, "Overall")
        again = [p for p in (tmp_path / "transcripts").glob("2*.json") if p != saved]
        assert len(again) == 1
        data = json.loads(again[0].read_text("utf-8"))
        assert list(data["settings"]["review"]) == [asked]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    items = json.loads((tmp_path / "transcripts" / "practice" / "items.json").read_text("utf-8"))
    reviewed = [i for i in items["items"].values() if len(i["reviews"]) == 2]
    assert reviewed, "the --due interview reviewed the items it asked about"
