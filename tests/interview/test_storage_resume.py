"""An interview opened in one process resumes in another, on both storage backends.

Process A (plain mode) takes the first answer and is SIGKILLed while it waits for the
next, as a server dies. Process B resumes it with `--resume ID` and takes the rest. With
PostgreSQL, B runs with another data folder (another machine, as far as it can tell): all
it knows comes from the database. The finished transcript holds every answer typed, into
either process, once and in order.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from interviewer.config import load_settings
from interviewer.transcript.store import open_transcripts
from tests.conftest import REPO

ARGS = ["--topic", "lora", "--questions", "2", "--seed", "7", "--follow-ups", "1"]
ANSWERS = [
    "LoRA 冻结预训练权重 W0，只训练两个低秩矩阵 A 和 B，ΔW = BA。",
    "推理时可以把 BA 合并回 W0，不增加推理延迟。",
    "rank 一般取 8 或 16，alpha 取 rank 的两倍，学习率比全量微调大。",
    "数据清洗去重后转成 messages 格式，验证集按场景分层抽样。",
]
TIMEOUT = 60


class Plain:
    """`interviewer interview --plain` in a child process; `wait_read` returns when it waits
    for the candidate's next line (the test hooks' trace), or None when it has ended."""

    def __init__(self, data: Path, database_url: str | None, args: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTERVIEWER_")}
        env.update(
            XDG_DATA_HOME=str(data),
            XDG_CONFIG_HOME=str(data / "config"),
            PYTHONUNBUFFERED="1",
            INTERVIEWER_TEST_TRACE="1",
        )
        if database_url:
            env["INTERVIEWER_DATABASE_URL"] = database_url
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interviewer", "interview", "--plain", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
            env=env,
        )
        self.lines: list[str] = []
        self.queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def wait_read(self) -> bool:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                line = self.queue.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                raise AssertionError("timed out:\n" + "\n".join(self.lines)) from None
            if line is None:
                return False
            self.lines.append(line)
            if line.startswith("@@ read "):
                return True

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def end_input(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        while self.wait_read():
            pass
        return self.proc.wait(timeout=TIMEOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def test_an_interview_resumes_in_another_process(tmp_path: Path, database_url: str | None) -> None:
    a = Plain(tmp_path / "a", database_url, ARGS)
    assert a.wait_read(), a.output
    opened = next(line for line in a.lines if line.startswith("(interview "))
    interview_id = opened.split()[1].rstrip(")")
    a.type(ANSWERS[0] + "\n\n")
    assert a.wait_read(), a.output  # graded, and waiting for the next answer
    a.kill()

    # With PostgreSQL, B shares nothing with A but the database.
    b_home = tmp_path / ("b" if database_url else "a")
    b = Plain(b_home, database_url, ["--resume", interview_id])
    typed = [ANSWERS[0]]
    for answer in ANSWERS[1:]:
        if not b.wait_read():
            break
        b.type(answer + "\n\n")
        typed.append(answer)
    code = b.end_input()
    assert code == 0, b.output
    assert f"(resuming {interview_id})" in b.output

    settings = load_settings(
        data_dir=b_home / "interviewer", database_url=database_url
    )  # (the default transcripts folder of B's data folder)
    transcript = open_transcripts(settings).load(interview_id)
    assert transcript.finished
    said = [m.text for m in transcript.messages if m.role == "candidate"]
    assert said == typed, b.output
    graded = [a.answer for turn in transcript.turns for a in turn.attempts]
    assert graded == typed[: len(graded)] and len(graded) >= 2
    if database_url:
        assert not (b_home / "interviewer" / "interviews.sqlite").exists()
        assert not (tmp_path / "a" / "interviewer" / "transcripts").exists()
