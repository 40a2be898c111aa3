"""kill -9 at every step boundary of a plain-mode interview, then `--resume`: nothing lost,
nothing twice, and the screen after the resume tells the truth.

The interview (3 questions, follow-ups, a /hint and a /skip, offline judge, scripted voice,
seeded) runs once without a kill as the reference, tracing every point where it writes to
disk (interviewer.interview.testhooks: a checkpoint, a move saved, a transcript save).
Each case then runs it again, SIGKILLed by the process itself just after one of those
points, and resumes it with `--resume` until it finishes. The driver types like a user: the
next move when the interview waits for input. After the resume it checks what it is shown
against what the reference trace says the checkpoint holds at that point:

- the move being handled when the process died was already taken by the graph (its
  resume value is on disk): the resume must go on from after it — the grade and the next
  prompt, no "unsent answer" — and the user types the next move;
- it was not taken: the resume shows the prompt it answered again, and the answer's lines,
  if they were saved as a draft, as the kept draft (the user presses Enter to send it);
  otherwise the user types the move again.

The final transcript must equal the reference: the same questions, every answer and grade
exactly once and in order, the same hints and skips.

55 cases (48 kill points); about 3 min on 2 shared cores (2.8 s of CPU per case: two
interpreter starts and the offline judge's warm-up dominate). On 259844a, 35 of the 48
kill points then at hand failed (a sent answer shown as unsent, a skipped question shown
again, no resume before the first step).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from interviewer.interview.plain import KEPT

ARGS = ["--topic", "lora", "--questions", "3", "--seed", "7", "--follow-ups", "1"]
MOVES = [
    "/skip\n",
    "我们用 Qwen 做客服微调，数据清洗去重后转成 messages 格式，LoRA rank 16、alpha 32，"
    "学习率 2e-4，训练 3 个 epoch。\n\n",
    "验证集按场景分层抽样，长尾类别做了上采样。\n\n",
    "/hint\n",
    "LoRA 冻结预训练权重 W0，只训练两个低秩矩阵 A 和 B，ΔW = BA。\n\n",
    "推理时可以把 BA 合并回 W0，不增加推理延迟。\n\n",
]
ANSWERS = [m.strip() for m in MOVES if not m.startswith("/")]
TIMEOUT = 30


def env(tmp: Path, **extra: str) -> dict[str, str]:
    out = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTERVIEWER_", "OPENAI", "ANTHROPIC"))
    }
    out.update(
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        PYTHONUNBUFFERED="1",
        INTERVIEWER_TEST_TRACE="1",
        **extra,
    )
    return out


@dataclass
class Run:
    """One process's output lines (stdout and stderr together, in order) and exit code."""

    lines: list[str]
    code: int


class Driver:
    """A plain-mode process; types the next move each time it waits for input."""

    def __init__(self, tmp: Path, args: list[str], kill_at: str = "") -> None:
        extra = {"INTERVIEWER_TEST_KILL_AT": kill_at} if kill_at else {}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interviewer", "interview", "--plain", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp,
            env=env(tmp, **extra),
        )
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.lines: list[str] = []
        self.ended = False
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def next_wait(self) -> list[str] | None:
        """The lines printed up to the next wait for input; None when the process ended."""
        start = len(self.lines)
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                line = self.queue.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                raise AssertionError("timed out; output:\n" + "\n".join(self.lines)) from None
            if line is None:
                self.ended = True
                return None
            self.lines.append(line)
            if line.startswith("@@ read "):
                return self.lines[start:]

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(text)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # killed meanwhile: the next wait says so

    def finish(self) -> Run:
        code = self.proc.wait(timeout=TIMEOUT)
        while not self.ended:
            line = self.queue.get(timeout=TIMEOUT)
            if line is None:
                self.ended = True
            else:
                self.lines.append(line)
        return Run(self.lines, code)


def last_prompt(lines: list[str]) -> str | None:
    """The interviewer's last words on screen (the first line of the last `» ` message)."""
    shown = [line for line in lines if line.startswith("» ")]
    return shown[-1] if shown else None


def points(lines: list[str]) -> list[str]:
    """The trace: `name:n` for every point passed, in order."""
    return [":".join(line.split()[1:3]) for line in lines if line.startswith("@@ ")]


@dataclass
class Reference:
    trace: list[str]
    prompts: list[str]  # prompts[k]: what was on screen when move k was typed
    transcript: dict[str, Any]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    tmp = tmp_path_factory.mktemp("reference")
    driver = Driver(tmp, ARGS)
    prompts = []
    for move in MOVES:
        seen = driver.next_wait()
        assert seen is not None, "\n".join(driver.lines)
        prompt = last_prompt(driver.lines)
        assert prompt is not None
        prompts.append(prompt)
        driver.type(move)
    run = driver.finish()
    assert run.code == 0, "\n".join(run.lines)
    assert len(set(prompts)) == len(prompts), "each move must be typed at a different prompt"
    return Reference(points(run.lines), prompts, load_final(tmp, run))


def load_final(tmp: Path, run: Run) -> dict[str, Any]:
    path = tmp / run.lines[-1]
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


# Every point where the reference run writes something but the `writes` of a node inside
# a step (LangGraph saves them on a background thread, so their count at a given moment
# varies; on resume they are applied, or the node runs again).
BOUNDARIES = [
    *(f"checkpoint:{n}" for n in range(1, 31)),
    *(f"save:{n}" for n in range(1, 13)),
    # The candidate's move saved: twice per move, as the value the interrupt is resumed
    # with and in the writes of the node that waited; on two threads, in either order.
    *(f"resume:{n}" for n in range(1, 13)),
]


def test_every_boundary_is_covered(reference: Reference) -> None:
    kinds = ("checkpoint:", "save:", "resume:")
    assert sorted(p for p in reference.trace if p.startswith(kinds)) == sorted(BOUNDARIES)


def expected_after(reference: Reference, point: str) -> tuple[int, bool, bool]:
    """At `point` of the reference run: (moves typed, was the last one taken by the graph,
    were its lines saved as a draft)."""
    upto = reference.trace[: reference.trace.index(point) + 1]
    reads = [i for i, p in enumerate(upto) if p.startswith("read:")]
    typed = len(reads)
    if not typed:
        return 0, True, False
    since = upto[reads[-1] + 1 :]
    taken = any(p.startswith(("resume:", "checkpoint:")) for p in since)
    drafted = not taken and any(p.startswith("save:") for p in since)
    return typed, taken, drafted


def finished_saved(reference: Reference, point: str) -> bool:
    """Had the reference run saved its finished transcript at `point`?"""
    upto = reference.trace[: reference.trace.index(point) + 1]
    last_checkpoint = max(i for i, p in enumerate(reference.trace) if p.startswith("checkpoint:"))
    return any(p.startswith("save:") for p in upto[last_checkpoint:])


def transcript_path(tmp: Path, interview_id: str) -> Path:
    return tmp / "data" / "interviewer" / "transcripts" / f"{interview_id}.json"


def comparable(transcript: dict[str, Any]) -> list[dict[str, Any]]:
    """What must survive a crash: per question, every answer with its grade, the hints,
    the skip; and the conversation's candidate words."""
    turns = []
    for t in transcript["turns"]:
        turns.append(
            {
                "question_id": t["question_id"],
                "skipped": t["skipped"],
                "hinted": t["hinted"],
                "score": t["score"],
                "attempts": [
                    {
                        "answer": a["answer"],
                        "probes": a["probes"],
                        "score": a["grade"]["score"],
                        "verdicts": a["grade"]["verdicts"],
                        "flags": a["grade"]["flags"],
                    }
                    for a in t["attempts"]
                ],
            }
        )
    return turns


@pytest.mark.parametrize("point", BOUNDARIES)
def test_kill_at_every_step_boundary_then_resume(
    tmp_path: Path, reference: Reference, point: str
) -> None:
    typed, taken, drafted = expected_after(reference, point)
    driver = Driver(tmp_path, ARGS, kill_at=point)
    for move in MOVES[:typed]:
        assert driver.next_wait() is not None, "\n".join(driver.lines)
        driver.type(move)
    killed = driver.finish()
    assert killed.code == -9, f"not killed at {point}:\n" + "\n".join(killed.lines)
    interview_id = killed.lines[0].split()[1].rstrip(")")

    resumed = Driver(tmp_path, ["--resume", interview_id])
    seen = resumed.next_wait()
    if seen is None:  # it finished the interview on its own: the last move was taken
        assert typed == len(MOVES) and taken, "\n".join(resumed.lines)
    else:
        shown = [line for line in seen if not line.startswith("@@ ")]
        kept = KEPT["zh"] in shown
        if taken:
            assert not kept, f"a sent answer is shown as unsent after a kill at {point}"
            assert last_prompt(shown) == reference.prompts[typed], (
                f"after a kill at {point} the resume should show the prompt for move "
                f"{typed}:\n" + "\n".join(shown)
            )
            nxt = typed
        else:
            assert last_prompt(shown) == reference.prompts[typed - 1], "\n".join(shown)
            assert kept == drafted, "\n".join(shown)
            nxt = typed - 1
        if kept:
            assert shown[shown.index(KEPT["zh"]) + 1 :] == [MOVES[typed - 1].strip()]
            resumed.type("\n")  # a blank line sends the kept answer
            nxt = typed
        else:
            resumed.type(MOVES[nxt])
            nxt += 1
        while nxt < len(MOVES):
            assert resumed.next_wait() is not None, "\n".join(resumed.lines)
            resumed.type(MOVES[nxt])
            nxt += 1
    run = resumed.finish()
    if run.code == 2 and "already finished" in run.lines[0]:
        # Killed after the finished transcript was saved: nothing left to resume.
        assert finished_saved(reference, point), "\n".join(run.lines)
        final = json.loads(transcript_path(tmp_path, interview_id).read_text("utf-8"))
    else:
        assert run.code == 0, "\n".join(run.lines)
        final = load_final(tmp_path, run)
    assert final["finished"] is True and final["draft"] == ""
    answers = [a["answer"] for t in final["turns"] for a in t["attempts"]]
    assert answers == ANSWERS, "every answer once, in order"
    said = [m["text"] for m in final["messages"] if m["role"] == "candidate"]
    assert said == ANSWERS
    assert comparable(final) == comparable(reference.transcript)
