"""Plain mode in a real subprocess: a whole interview, a crash and resume, exam secrecy."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from interviewer.bank.loader import load_bank
from interviewer.interview.graph import MAX_ANSWER_CHARS
from interviewer.interview.personas import personas
from interviewer.interview.plain import read_reply
from tests.conftest import REPO

ANSWERS = [
    "在 PyTorch 里训练循环是：先 optimizer.zero_grad() 清梯度，然后前向得到输出，用 loss 函数算损失，"
    "loss.backward() 反向传播，最后 optimizer.step() 更新参数。",
    "Dataset 需要实现 __len__ 和 __getitem__，DataLoader 负责按 batch_size 取数据，shuffle 打乱，"
    "num_workers 多进程加载，collate_fn 把样本拼成 batch。",
    "WHERE 在分组之前过滤行，HAVING 在 GROUP BY 之后过滤分组，所以 HAVING 里可以用 COUNT、SUM 这样的聚合函数。",
]


def env(tmp: Path) -> dict[str, str]:
    out = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTERVIEWER_", "OPENAI", "ANTHROPIC"))
    }
    out.update(
        XDG_DATA_HOME=str(tmp / "data"), XDG_CONFIG_HOME=str(tmp / "config"), PYTHONUNBUFFERED="1"
    )
    return out


def run(tmp: Path, args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interviewer", "interview", "--plain", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env(tmp),
        timeout=300,
        check=False,
    )


def test_whole_offline_interview_of_three_questions(tmp_path: Path) -> None:
    stdin = "".join(f"{a}\n\n" for a in ANSWERS)
    proc = run(
        tmp_path,
        ["--topic", "coding", "--questions", "3", "--follow-ups", "0", "--seed", "11"],
        stdin,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    path = tmp_path / lines[-1]
    assert path.exists(), f"last line is the transcript path: {lines[-1]}"
    transcript = json.loads(path.read_text("utf-8"))
    assert transcript["finished"] is True
    assert len(transcript["turns"]) == 3
    assert [t["attempts"][0]["answer"] for t in transcript["turns"]] == ANSWERS
    assert "总分" in proc.stdout and "得分" in proc.stdout
    assert oct(path.stat().st_mode & 0o777) == "0o600"


class Live:
    """A plain-mode process we can type into and read from as it runs."""

    def __init__(self, tmp: Path, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interviewer", "interview", "--plain", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp,
            env=env(tmp),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, predicate: object, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.seen):  # type: ignore[operator]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("timed out; output so far:\n" + "\n".join(self.seen))
            try:
                self.seen.append(self.lines.get(timeout=remaining))
            except queue.Empty:
                continue

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()


def transcript_of(tmp: Path, interview_id: str) -> dict[str, object] | None:
    path = tmp / "data" / "interviewer" / "transcripts" / f"{interview_id}.json"
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def wait_until(check: object, live: Live, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert live.proc.poll() is None, live.proc.stderr.read() if live.proc.stderr else ""
        assert time.monotonic() < deadline, "timed out waiting for the transcript"
        time.sleep(0.1)


def test_kill_after_second_answer_then_resume(tmp_path: Path) -> None:
    args = ["--topic", "coding", "--questions", "3", "--follow-ups", "0", "--seed", "5"]
    live = Live(tmp_path, args)
    live.wait_for(lambda seen: len(seen) >= 1)
    interview_id = live.seen[0].split()[1].rstrip(")")

    def asked(n: int) -> bool:
        t = transcript_of(tmp_path, interview_id)
        return bool(t and len(t["turns"]) == n - 1 and t["current"])  # type: ignore[arg-type]

    wait_until(lambda: asked(1), live)
    live.type(ANSWERS[0] + "\n\n")
    wait_until(lambda: asked(2), live)
    live.type(ANSWERS[1] + "\n\n")
    wait_until(lambda: asked(3), live)  # the 2nd answer is graded and the 3rd question asked
    live.proc.send_signal(signal.SIGKILL)
    live.proc.wait(timeout=30)

    saved = transcript_of(tmp_path, interview_id)
    assert saved is not None and saved["finished"] is False and len(saved["turns"]) == 2  # type: ignore[arg-type]

    listed = subprocess.run(
        [sys.executable, "-m", "interviewer", "interview", "--resume"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env(tmp_path),
        timeout=120,
        check=False,
    )
    assert interview_id in listed.stdout, listed.stdout + listed.stderr

    proc = run(tmp_path, ["--resume", interview_id], ANSWERS[2] + "\n\n")
    assert proc.returncode == 0, proc.stderr
    assert f"(resuming {interview_id})" in proc.stdout
    final = json.loads((tmp_path / proc.stdout.strip().splitlines()[-1]).read_text("utf-8"))
    assert final["finished"] is True
    assert [t["attempts"][0]["answer"] for t in final["turns"]] == ANSWERS
    for before, after in zip(saved["turns"], final["turns"][:2], strict=True):  # type: ignore[arg-type]
        assert after["merged"] == before["merged"], "grades made before the crash are kept"


def test_kill_mid_answer_keeps_the_lines_typed(tmp_path: Path) -> None:
    """Lines of an answer not yet sent are saved as they are typed; `--resume` shows them
    and the candidate goes on where they stopped."""
    args = ["--topic", "coding", "--questions", "1", "--follow-ups", "0", "--seed", "5"]
    live = Live(tmp_path, args)
    live.wait_for(lambda seen: len(seen) >= 1)
    interview_id = live.seen[0].split()[1].rstrip(")")

    def draft() -> str:
        t = transcript_of(tmp_path, interview_id)
        return str(t.get("draft") or "") if t else ""

    first, rest = ANSWERS[0][:40], ANSWERS[0][40:]
    wait_until(lambda: transcript_of(tmp_path, interview_id) is not None, live)
    live.type(first + "\n")  # one line, no blank line: not sent
    wait_until(lambda: draft() == first, live)
    live.proc.send_signal(signal.SIGKILL)
    live.proc.wait(timeout=30)

    proc = run(tmp_path, ["--resume", interview_id], rest + "\n\n")
    assert proc.returncode == 0, proc.stderr
    assert first in proc.stdout, "the kept lines are shown again"
    final = json.loads((tmp_path / proc.stdout.strip().splitlines()[-1]).read_text("utf-8"))
    assert final["turns"][0]["attempts"][0]["answer"] == f"{first}\n{rest}"
    assert final["draft"] == ""


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("persona_name", sorted(personas()))
def test_exam_mode_never_shows_rubric_text(tmp_path: Path, lang: str, persona_name: str) -> None:
    bank = load_bank(REPO)
    stdin = "/hint\n/explain\n" + "".join(f"{a}\n\n/explain\n" for a in ANSWERS) + "/hint\n"
    args = [
        "--topic",
        "coding",
        "--questions",
        "2",
        "--mode",
        "exam",
        "--lang",
        lang,
        "--persona",
        persona_name,
        "--seed",
        "9",
    ]
    proc = run(tmp_path, args, stdin)
    assert proc.returncode == 0, proc.stderr
    during = proc.stdout.split("=" * 60)[0]  # everything before the final report
    transcript = json.loads((tmp_path / proc.stdout.strip().splitlines()[-1]).read_text("utf-8"))
    asked = [t["question_id"] for t in transcript["turns"]] or [
        transcript["current"]["question_id"]
    ]
    for qid in asked:
        rubric = bank.rubric(qid)
        secrets = [kp.text.get(lang) for kp in rubric.key_points]
        secrets += [s for s in rubric.reference_answer.get(lang).splitlines() if s.strip()]
        for secret in secrets:
            assert secret not in during, f"exam mode revealed {secret!r}"
    assert "得分" not in during and "Score:" not in during


def test_explain_shows_the_reference_once_graded(tmp_path: Path) -> None:
    bank = load_bank(REPO)
    stdin = f"/explain\n{ANSWERS[0]}\n\nfirst line\n/explain\nsecond line\n\n/quit\n"
    args = ["--topic", "coding", "--questions", "1", "--follow-ups", "1", "--seed", "11"]
    proc = run(tmp_path, args, stdin)
    assert proc.returncode == 0, proc.stderr
    during = proc.stdout.split("=" * 60)[0]
    before, after = during.split("本题得分", 1)
    assert "先回答这道题" in before and "参考答案（逐个要点）" not in before
    assert "参考答案（逐个要点）" in after
    transcript = json.loads((tmp_path / proc.stdout.strip().splitlines()[-1]).read_text("utf-8"))
    turn = transcript["turns"][0]
    rubric = bank.rubric(turn["question_id"])
    for kp in rubric.key_points:
        assert kp.text.zh in after, "each key point's statement"
    verdicts = {v["key_point"]: v["verdict"] for v in turn["attempts"][0]["grade"]["verdicts"]}
    if "missed" in verdicts.values():
        assert "你漏了" in after
    # /explain kept the line typed before it: the follow-up's answer went on after it.
    assert [a["answer"] for a in turn["attempts"]] == [ANSWERS[0], "first line\nsecond line"]


def test_root_command_takes_interview_options(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "interviewer",
            "--topic",
            "coding",
            "--questions",
            "1",
            "--lang",
            "en",
        ],
        input="/quit\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env(tmp_path),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Overall" in proc.stdout
    saved = Path(proc.stdout.strip().splitlines()[-1])
    assert saved.parent == tmp_path / "data" / "interviewer" / "transcripts"


# --- reading replies (13.13: a command after lines of an answer is a command) ------------


@pytest.mark.parametrize(
    ("typed", "reply"),
    [
        ("/skip\n", ("skip", "")),
        ("LoRA 冻结 W0。\n/skip\n", ("skip", "LoRA 冻结 W0。")),
        ("LoRA 冻结 W0。\n/hint\n", ("hint", "LoRA 冻结 W0。")),
        ("LoRA 冻结 W0。\n  /repeat  \n", ("repeat", "LoRA 冻结 W0。")),
        ("LoRA 冻结 W0。\n/quit\n", ("quit", "LoRA 冻结 W0。")),
        ("LoRA 冻结 W0。\n只训练 A 和 B。\n\n", ("answer", "LoRA 冻结 W0。\n只训练 A 和 B。")),
        ("\n\nLoRA\n", ("answer", "LoRA")),  # end of input sends what was typed
        ("", None),
    ],
)
def test_read_reply(typed: str, reply: tuple[str, str] | None) -> None:
    assert read_reply(io.StringIO(typed)) == reply


def test_read_reply_saves_each_line_up_to_the_cap() -> None:
    saved: list[str] = []
    line = "x" * 15_000
    typed = f"{line}\n{line}\n{line}\n\n"
    action, text = read_reply(io.StringIO(typed), on_line=saved.append) or ("", "")
    assert action == "answer" and len(text) == 3 * 15_000 + 2  # the graph cuts it
    assert [len(s) for s in saved] == [15_000, MAX_ANSWER_CHARS], "no save once past the cap"


def test_skip_after_answer_lines_skips_and_hint_keeps_them(tmp_path: Path) -> None:
    """`/skip` typed after a line skips the question (the line is not an answer); `/hint`
    after a line shows the hint, and the lines typed go on into the answer after it."""
    stdin = (
        "我觉得是\n/skip\n"  # question 1: skipped, its line dropped
        "LoRA 冻结预训练权重 W0，\n/hint\n只训练低秩矩阵 A 和 B。\n\n"  # question 2
    )
    args = ["--topic", "lora", "--questions", "2", "--follow-ups", "0", "--seed", "7"]
    proc = run(tmp_path, args, stdin)
    assert proc.returncode == 0, proc.stderr
    final = json.loads((tmp_path / proc.stdout.strip().splitlines()[-1]).read_text("utf-8"))
    first, second = final["turns"]
    assert first["skipped"] is True and first["attempts"] == []
    assert [a["answer"] for a in second["attempts"]] == [
        "LoRA 冻结预训练权重 W0，\n只训练低秩矩阵 A 和 B。"
    ]
    assert second["hinted"], "the /hint after a line was a hint"
    said = " ".join(m["text"] for m in final["messages"] if m["role"] == "candidate")
    assert "/skip" not in said and "/hint" not in said and "我觉得是" not in said


def test_plain_mode_goes_on_when_the_transcript_cannot_be_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process (root ignores chmod): every transcript save fails. The answer is graded
    and the interview goes on, saying so; the end says how to save it, and once the
    folder can be written the transcript holds the answer once."""
    from interviewer.config import load_settings
    from interviewer.errors import InterviewerError
    from interviewer.interview.context import InterviewContext
    from interviewer.interview.plain import run_plain
    from interviewer.interview.session import Session
    from interviewer.transcript.store import TranscriptStore
    from tests.support.failing_saves import read_only

    settings = load_settings(transcripts_dir=tmp_path / "transcripts")
    ctx = InterviewContext(topics=["lora"], questions=1, follow_up_limit=0, seed=7)
    session = Session.open(settings, ctx)
    out = io.StringIO()
    try:
        read_only(monkeypatch)
        with pytest.raises(InterviewerError, match="could not be saved") as caught:
            run_plain(session, io.StringIO("LoRA 冻结 W0，只训练 A 和 B。\n\n"), out)
        assert f"--resume {session.interview_id}" in (caught.value.hint or "")
        said = out.getvalue()
        assert "(the transcript could not be saved (Read-only file system)" in said
        assert "Traceback" not in said
        monkeypatch.undo()
        session.save()
    finally:
        session.close()
    saved = TranscriptStore(settings.transcripts_dir).load(session.interview_id)
    answers = [a.answer for turn in saved.turns for a in turn.attempts]
    assert answers == ["LoRA 冻结 W0，只训练 A 和 B。"]


def test_a_damaged_checkpoint_database_is_a_clear_error_not_a_traceback(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data" / "interviewer" / "interviews.sqlite"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"not a database " * 100)
    proc = run(tmp_path, ["--topic", "lora", "--questions", "1"], "")
    assert proc.returncode == 2, proc.stderr
    assert f"{db}: the interviews' checkpoint database cannot be read" in proc.stderr
    assert "Move it aside" in proc.stderr and "Traceback" not in proc.stderr
    assert db.read_bytes() == b"not a database " * 100


def test_a_busy_checkpoint_database_is_not_called_damaged(tmp_path: Path) -> None:
    """A database another process holds locked is waited for and then reported as SQLite
    says, never with the advice to move it aside (which would lose its interviews)."""
    import sqlite3

    from interviewer.config import load_settings
    from interviewer.interview import checkpoints

    settings = load_settings(data_dir=tmp_path / "data")
    checkpoints.open_checkpointer(settings).close()  # a healthy, empty database
    holder = sqlite3.connect(checkpoints.checkpoint_path(settings))
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(checkpoints, "SQLITE_BUSY_SECONDS", 0.1)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                checkpoints.open_checkpointer(settings)
    finally:
        holder.rollback()
        holder.close()
