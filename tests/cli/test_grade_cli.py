"""`interviewer grade` in a real subprocess with the offline judge: outputs, exit codes,
question matching, ad-hoc rubrics, and a run killed half-way that a re-run finishes."""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interviewer.batch import report
from interviewer.batch.runner import INTERRUPTED, START_METHOD_ENV
from interviewer.cli import app

GOOD = "LoRA 冻结预训练权重 W0，把更新写成两个低秩矩阵 B 和 A 的乘积，只训练 A 和 B，推理时可以合并回 W0。"


def env(tmp: Path, bank: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("INTERVIEWER_", "OPENAI"))}
    out.update(
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        INTERVIEWER_BANK_DIR=str(bank),
        PYTHONUNBUFFERED="1",
    )
    return out


def grade(tmp: Path, bank: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interviewer", "grade", *args],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env(tmp, bank),
        timeout=300,
        check=False,
    )


def results(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_mixed_file_keeps_order_reports_errors_and_exits_1(
    tmp_path: Path, small_bank: Path
) -> None:
    rows = [
        {"id": "strong", "question_id": "lora-principle", "answer": GOOD},
        {
            "id": "weak",
            "question_id": "lora-principle",
            "answer": "LoRA 是一种微调方法，效果不错。",
        },
        {"id": "missing-answer", "question_id": "lora-principle"},
        {
            "id": "by-text",
            "question": "LoRA 微调是怎么工作的？它改了模型哪部分，为什么省资源？",
            "answer": GOOD,
        },
        {
            "id": "adhoc",
            "question": "What does a KV cache store?",
            "key_points": ["keys and values of earlier tokens", "memory grows with length"],
            "answer": "It keeps the keys and values of earlier tokens; its memory grows with length.",
            "max_score": 10,
        },
        {"id": "unknown", "question_id": "no-such-question", "answer": "x"},
    ]
    src = tmp_path / "answers.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    proc = grade(
        tmp_path, small_bank, str(src), "--csv", "out.csv", "--report", "report.md", "--no-cache"
    )
    assert proc.returncode == 1, proc.stderr
    out = results(tmp_path / "answers.results.jsonl")
    assert [r["id"] for r in out] == [r["id"] for r in rows]
    by_id = {r["id"]: r for r in out}
    assert isinstance(by_id["strong"]["score"], float) and isinstance(by_id["weak"]["score"], float)
    assert by_id["strong"]["score"] > by_id["weak"]["score"] + 30
    assert by_id["by-text"]["question_id"] == "lora-principle"
    assert by_id["by-text"]["score"] == by_id["strong"]["score"]
    assert by_id["adhoc"].get("question_id") is None and by_id["adhoc"]["max_score"] == 10
    assert by_id["adhoc"].get("scaled_score") is not None
    assert by_id["missing-answer"]["error"] == "line 3: no `answer`"
    assert "line 6: no question with id 'no-such-question'" in str(by_id["unknown"]["error"])
    assert "6 rows: 4 graded (0 from cache), 2 failed" in proc.stderr
    with (tmp_path / "out.csv").open(encoding="utf-8-sig") as f:  # BOM for Excel
        assert [r["id"] for r in csv.DictReader(f)] == [r["id"] for r in rows]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "lora-principle" in report and "missing-answer" in report


def test_clean_file_exits_0_and_unusable_files_exit_2(tmp_path: Path, small_bank: Path) -> None:
    ok = tmp_path / "ok.csv"
    ok.write_text(f"question_id,answer\nlora-principle,{GOOD}\n", encoding="utf-8-sig")
    proc = grade(tmp_path, small_bank, str(ok))
    assert proc.returncode == 0, proc.stderr
    assert results(tmp_path / "ok.results.jsonl")[0]["error"] is None

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(f"question_id,answer\nlora-principle,{GOOD}\n".encode("gbk"))
    proc = grade(tmp_path, small_bank, str(gbk))
    assert proc.returncode == 2
    assert "gbk.csv:2: the file is not UTF-8" in proc.stderr

    proc = grade(tmp_path, small_bank, str(tmp_path / "absent.jsonl"))
    assert proc.returncode == 2
    assert "absent.jsonl" in proc.stderr


def test_markdown_input_and_dry_run(tmp_path: Path, small_bank: Path) -> None:
    md = tmp_path / "answers.md"
    md.write_text(
        "## 请讲一讲 LoRA 微调是怎么工作的：它改了模型的哪一部分，又为什么能省资源？\n\n"
        f"{GOOD}\n\n## 你最喜欢什么颜色？\n\n蓝色。\n",
        encoding="utf-8",
    )
    proc = grade(tmp_path, small_bank, str(md), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "2 rows: 1 gradable on 1 questions, 1 with errors" in proc.stderr
    assert not (tmp_path / "answers.results.jsonl").exists()
    proc = grade(tmp_path, small_bank, str(md))
    assert proc.returncode == 1
    out = results(tmp_path / "answers.results.jsonl")
    assert out[0]["question_id"] == "lora-principle" and out[0]["error"] is None
    assert "matches nothing in the bank" in str(out[1]["error"])


def cached_rows(tmp: Path) -> int:
    db = tmp / "data" / "interviewer" / "grade-cache.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM grades").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def audited_cache(tmp: Path) -> Path:
    """The grade cache, made before the first run with a log of every write to it.

    GradeCache keeps an existing table; the trigger records each insert, a replace too, so
    a row graded again after a resume shows up as a second write of its key.
    """
    db = tmp / "data" / "interviewer" / "grade-cache.sqlite"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        conn.executescript(
            """
            CREATE TABLE grades (key TEXT PRIMARY KEY, grade TEXT NOT NULL);
            CREATE TABLE writes (key TEXT NOT NULL);
            CREATE TRIGGER log_write AFTER INSERT ON grades
            BEGIN INSERT INTO writes (key) VALUES (new.key); END;
            """
        )
    conn.close()
    return db


def test_a_batch_killed_at_ten_points_resumes_without_losing_or_regrading_a_row(
    tmp_path: Path, small_bank: Path
) -> None:
    """kill -9 (the CLI and its workers) at 10 points of a 500-row run, the same command
    run again each time: every row once, in order, none graded twice, strict JSONL."""
    n = 500
    src = many_rows(tmp_path / "many.jsonl", n)
    db = audited_cache(tmp_path)
    # One worker: a run starts sooner, and the two cores are not fought over.
    args = [str(src), "--out", "out.jsonl", "--concurrency", "1"]
    command = [sys.executable, "-m", "interviewer", "grade", *args]
    levels = []
    for target in range(45, 46 * 10, 45):  # 45, 90, ... 450 rows cached at each kill
        proc = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env(tmp_path, small_bank),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while cached_rows(tmp_path) < target and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the kill should land mid-run"
        assert not (tmp_path / "out.jsonl").exists()
        levels.append(cached_rows(tmp_path))
    assert len(levels) == 10 and levels == sorted(levels) and levels[-1] < n, levels

    again = grade(tmp_path, small_bank, *args)
    assert again.returncode == 0, again.stderr
    assert f"{n} rows: {n} graded ({levels[-1]} from cache), 0 failed" in again.stderr
    out = strict_results(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [f"r{i}" for i in range(n)]
    assert all(r["error"] is None and isinstance(r["score"], float) for r in out)
    with sqlite3.connect(db) as conn:
        writes = conn.execute("SELECT count(*), count(DISTINCT key) FROM writes").fetchone()
    conn.close()
    assert writes == (n, n)  # every row graded and cached exactly once
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def strict_results(path: Path) -> list[dict[str, object]]:
    """The results file read strictly: UTF-8, split on \\n only, no NaN or Infinity."""

    def refuse(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n")
    return [json.loads(line, parse_constant=refuse) for line in text.split("\n")[:-1]]


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr.replace("error:", "")


def test_an_output_that_is_an_input_or_cannot_be_written_is_refused_before_grading(
    tmp_path: Path, small_bank: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In-process (the check comes before anything is loaded); the data folder is isolated.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTERVIEWER_BANK_DIR", str(small_bank))
    src = tmp_path / "answers.jsonl"
    text = json.dumps({"id": "a", "question_id": "lora-principle", "answer": GOOD}) + "\n"
    src.write_text(text, encoding="utf-8")
    os.link(src, tmp_path / "hard.jsonl")
    (tmp_path / "soft.jsonl").symlink_to(src)
    (tmp_path / "sub").mkdir()
    if os.geteuid() == 0:  # root writes in a 0555 folder; sysfs refuses even root
        read_only = Path("/sys/results.jsonl")
    else:
        (tmp_path / "ro").mkdir(mode=0o555)
        read_only = tmp_path / "ro" / "results.jsonl"
    cases = [
        (["--out", "answers.jsonl"], "--out answers.jsonl: that is the input file"),
        (["--out", "sub/../answers.jsonl"], "that is the input file"),
        (["--csv", "hard.jsonl"], "--csv hard.jsonl: that is the input file"),
        (["--report", "soft.jsonl"], "--report soft.jsonl: that is the input file"),
        (["--out", "x.jsonl", "--csv", "sub/../x.jsonl"], "--csv sub/../x.jsonl: --out writes"),
        (["--out", "/nonexistent/dir/out.jsonl"], "the folder /nonexistent/dir does not exist"),
        (["--report", "missing/r.md"], f"--report missing/r.md: the folder {tmp_path}/missing"),
        (["--csv", "answers.jsonl/x.csv"], "is not a folder"),
        (["--out", "sub"], "--out sub: that is a folder"),
        (["--out", str(read_only)], f"--out {read_only}: cannot write in the folder"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(app, ["grade", str(src), *args])
        stderr = " ".join(result.stderr.split())  # the console wraps long lines
        assert result.exit_code == 2, (args, stderr)
        assert message in stderr, (args, stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert src.read_text(encoding="utf-8") == text  # the answers are untouched
    assert not (tmp_path / "data" / "interviewer" / "grade-cache.sqlite").exists()  # no grading
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_bad_rows_never_lose_the_batch(tmp_path: Path, small_bank: Path) -> None:
    def row(**fields: object) -> str:
        return json.dumps({"question_id": "lora-principle", **fields}, ensure_ascii=False)

    lines = [
        row(id="first", answer=GOOD),
        '{"id": "deep", "answer": ' + "[" * 100_000,
        '{"id": "sur\\udfff", "question_id": "lora-principle", "answer": "x"}',
        row(id="obj", answer={"text": GOOD}),
        row(id="num", answer=123),
        row(id="seps", answer=f"{GOOD}\u2028第二段\u2029第三段"),
        row(id="first", answer=GOOD),
        '{"id": "inf", "question_id": "lora-principle", "answer": "x", "max_score": 1e999}',
        row(id="last", answer=GOOD, max_score=10),
    ]
    src = tmp_path / "bad.jsonl"
    src.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    proc = grade(
        tmp_path, small_bank, str(src), "--out", "out.jsonl", "--csv", "out.csv", "--report",
        "r.md", "--no-cache",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    no_traceback(proc)
    out = strict_results(tmp_path / "out.jsonl")
    assert [r["line"] for r in out] == list(range(1, 10))
    graded = {r["id"] for r in out if r["error"] is None}
    assert graded == {"first", "seps", "last"}
    for r in out:
        if r["error"] is not None:
            assert str(r["error"]).startswith(f"line {r['line']}: "), r
    assert out[2]["id"] == "sur\ufffd"
    assert "line 7: the id 'first' was already used on line 1" in proc.stderr  # a warning
    assert "9 rows: 3 graded (0 from cache), 6 failed" in proc.stderr
    assert (tmp_path / "out.csv").exists() and (tmp_path / "r.md").exists()


def test_concurrency_below_one_is_a_usage_error(tmp_path: Path, small_bank: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"question_id": "lora-principle", "answer": GOOD}), "utf-8")
    for value in ("-1", "0"):
        proc = grade(tmp_path, small_bank, str(src), "--concurrency", value)
        assert proc.returncode == 2, proc.stderr
        assert "--concurrency" in proc.stderr and "Traceback" not in proc.stderr


def test_help_documents_one_exit_code_per_meaning(tmp_path: Path, small_bank: Path) -> None:
    proc = grade(tmp_path, small_bank, "--help")
    text = " ".join(proc.stdout.replace("│", " ").split())
    for phrase in (
        "0 every row graded",
        "1 some rows are error rows",
        "2 nothing graded",
        "3 graded and cached, but an output could not be written",
        "130 interrupted",
    ):
        assert phrase in text, phrase


def many_rows(path: Path, n: int) -> Path:
    path.write_text(
        "\n".join(
            json.dumps({"id": f"r{i}", "question_id": "lora-principle", "answer": f"{GOOD} ({i})"})
            for i in range(n)
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def wait_for_cached(tmp: Path, proc: subprocess.Popen[str], rows: int) -> None:
    deadline = time.monotonic() + 120
    while cached_rows(tmp) < rows:
        assert proc.poll() is None, "the run ended before it was interrupted"
        assert time.monotonic() < deadline, "nothing was graded in time"
        time.sleep(0.02)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_ctrl_c_finishes_the_rows_in_flight_under_fork_and_spawn(
    tmp_path: Path, small_bank: Path, method: str
) -> None:
    n = 400
    src = many_rows(tmp_path / "many.jsonl", n)
    proc = subprocess.Popen(
        [sys.executable, "-m", "interviewer", "grade", str(src), "--out", "out.jsonl"],
        cwd=tmp_path,
        env={**env(tmp_path, small_bank), START_METHOD_ENV: method},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_cached(tmp_path, proc, 20)
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl+C in a terminal: the whole group
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    assert "interrupted: the rows in flight were finished" in stderr
    out = strict_results(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [f"r{i}" for i in range(n)]
    graded = [r["id"] for r in out if r["error"] is None]
    # Rows are handed out in order and every row handed out was finished: the graded rows
    # are the first ones, each of them cached, and every other row says it was not graded.
    assert graded == [f"r{i}" for i in range(len(graded))]
    assert len(graded) == cached_rows(tmp_path) and 20 <= len(graded) < n
    assert all(r["error"] == f"line {r['line']}: {INTERRUPTED}" for r in out[len(graded) :])


def test_several_references_grade_against_the_best_match(tmp_path: Path, small_bank: Path) -> None:
    lora = "LoRA 冻结预训练权重，只训练两个低秩矩阵 B 和 A，推理时可以把 BA 合并回原权重。"
    kv = "KV cache 保存之前每个 token 的 key 和 value，生成新 token 时不用重新计算它们。"
    question = "请解释这个概念。"
    src = tmp_path / "refs.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "question", "reference", "references", "answer"])
        writer.writerow(["kv", question, "", json.dumps([lora, kv], ensure_ascii=False), kv])
        writer.writerow(["lora", question, lora, json.dumps([kv], ensure_ascii=False), lora])
        writer.writerow(["bad", question, "", "[1, 2]", kv])
    proc = grade(tmp_path, small_bank, str(src), "--no-cache")
    assert proc.returncode == 1, proc.stderr
    out = {r["id"]: r for r in strict_results(tmp_path / "refs.results.jsonl")}
    assert out["kv"]["reference_index"] == 1 and out["lora"]["reference_index"] == 0
    assert isinstance(out["kv"]["score"], float) and out["kv"]["score"] >= 60
    assert str(out["bad"]["error"]).startswith("line 4: references")


def test_a_summary_counts_the_error_rows_it_does_not_list(tmp_path: Path, small_bank: Path) -> None:
    rows = [{"id": f"bad{i}", "question_id": "lora-principle"} for i in range(13)]
    rows.append({"id": "good", "question_id": "lora-principle", "answer": GOOD})
    src = tmp_path / "answers.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    proc = grade(tmp_path, small_bank, str(src), "--no-cache")
    assert proc.returncode == 1, proc.stderr
    listed = [line for line in proc.stderr.splitlines() if line.endswith("no `answer`")]
    assert len(listed) == 10
    assert f"… and 3 more (every one is in {tmp_path / 'answers.results.jsonl'})" in proc.stderr


def graded_in_process(
    tmp_path: Path, small_bank: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Two rows to grade in this process (so that a write can be made to fail), and the
    output options; out.csv holds an earlier run's file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTERVIEWER_BANK_DIR", str(small_bank))
    src = tmp_path / "answers.jsonl"
    rows = [{"id": f"r{i}", "question_id": "lora-principle", "answer": GOOD} for i in range(2)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "out.csv").write_bytes(b"an earlier run's complete CSV\r\n")
    return [
        "grade", str(src), "--out", "out.jsonl", "--csv", "out.csv", "--report", "r.md",
        "--concurrency", "1",
    ]  # fmt: skip


def test_an_output_that_cannot_be_written_keeps_its_previous_file_and_exits_3(
    tmp_path: Path, small_bank: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = graded_in_process(tmp_path, small_bank, monkeypatch)
    real_replace = os.replace

    def disk_full_for_the_csv(src: str, dst: str) -> None:
        if Path(dst).name == "out.csv":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", disk_full_for_the_csv)
    result = CliRunner().invoke(app, args)
    stderr = " ".join(result.stderr.split())
    assert result.exit_code == 3, stderr
    assert "--csv out.csv: could not write (No space left on device)" in stderr
    assert "run the same command again" in stderr
    assert (tmp_path / "out.csv").read_bytes() == b"an earlier run's complete CSV\r\n"
    assert [r["id"] for r in strict_results(tmp_path / "out.jsonl")] == ["r0", "r1"]
    assert not (tmp_path / "r.md").exists()  # the outputs after the failed one: not begun
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_ctrl_c_while_the_outputs_are_written_says_which_and_to_run_again(
    tmp_path: Path, small_bank: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second Ctrl+C after the grading loop ended (its handler went with it) lands as a
    # KeyboardInterrupt while the outputs are written.
    args = graded_in_process(tmp_path, small_bank, monkeypatch)

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:  # (undo() would drop the isolated data folder too)
        patched.setattr(report, "write_csv", interrupted)
        result = CliRunner().invoke(app, args)
    stderr = " ".join(result.stderr.split())
    assert result.exit_code == 130, stderr
    assert (
        "interrupted before the results were written: --csv out.csv, --report r.md not written"
        in stderr
    )
    assert "Every grade is cached: run the same command again" in stderr
    assert (tmp_path / "out.csv").read_bytes() == b"an earlier run's complete CSV\r\n"
    assert [r["id"] for r in strict_results(tmp_path / "out.jsonl")] == ["r0", "r1"]
    assert not (tmp_path / "r.md").exists()
    result = CliRunner().invoke(app, args)  # the re-run it asks for writes all, from the cache
    assert result.exit_code == 0, result.stderr
    assert "2 rows: 2 graded (2 from cache)" in result.stderr
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as f:
        assert [r["id"] for r in csv.DictReader(f)] == ["r0", "r1"]
    assert (tmp_path / "r.md").exists()
