"""`interviewer grade --batch-api` in a real subprocess against the loopback batch server
(tests/support/batch_server.py): the acceptance run (2,000 rows, 5% failed requests, the
process killed after submitting and the job collected with --resume), a cascade (only its
uncertain rows submitted; killed after submitting and resumed), the process killed
between the provider making a batch and the job being recorded (the batch adopted, or the
pending submission dropped), Ctrl+C, a wait that runs out, and the options it refuses."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from interviewer.bank.loader import load_bank
from interviewer.batch.batch_api import UNSETTLED, BatchRun
from interviewer.batch.provider_batch import key_of
from interviewer.batch.runner import BatchResult
from interviewer.cli.grade_batch import unfinished
from interviewer.judge import offline_judge
from interviewer.judge.cascade import fitted_band
from tests.batch.test_batch_api import GOOD, MID, reply
from tests.cli.test_grade_cli import env, strict_results
from tests.support.batch_server import BatchServer, BatchState

KINDS = ("error", "malformed", "expired")


def run_cli(
    cmd: list[str], cwd: Path, run_env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`cmd` run to its end in `cwd`, its output captured as text."""
    return subprocess.run(
        cmd, cwd=cwd, env=run_env, capture_output=True, text=True, timeout=timeout, check=False
    )


def number(answer: str) -> int:
    return int(answer.rsplit("#", 1)[1])


def five_percent(custom_id: str, answer: str) -> str:
    """Rows 7, 27, 47...: one in twenty fails, as an error, a malformed reply or expired."""
    i = number(answer)
    return KINDS[(i // 20) % 3] if i % 20 == 7 else "ok"


def answers(path: Path, n: int) -> Path:
    lines = []
    for i in range(n):
        text = f"{GOOD}{' invent' if i % 50 == 3 else ''} #{i}"
        lines.append(json.dumps({"id": f"r{i}", "question_id": "lora-principle", "answer": text}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Every key point of lora-principle, in other words than the rubric's: 100 offline points.
STRONG = (
    "LoRA 假设微调时的权重更新 ΔW 秩很低，把它写成 B 乘 A 两个小矩阵，r 远小于 d 和 k；"
    "预训练权重 W0 冻结，只训练 A 和 B，前向是 W0x 加 BAx。可训练参数从 d·k 变成 r(d+k)，"
    "显存和优化器状态省很多。B 初始化为零、A 随机，所以一开始 ΔW 为零，更新再乘 α/r。"
    "一般加在注意力的 q、k、v、o 投影上。推理时把 BA 合并回 W0，没有额外延迟。"
)


def mixed_answers(path: Path, n: int, bank_dir: Path) -> list[bool]:
    """STRONG and MID in turn (100 and about 43 offline points); which rows the shipped
    cascade band finds uncertain, by the offline judge in this process."""
    texts = [f"{STRONG if i % 2 == 0 else MID} #{i}" for i in range(n)]
    lines = [
        json.dumps({"id": f"r{i}", "question_id": "lora-principle", "answer": text})
        for i, text in enumerate(texts)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bank = load_bank(bank_dir)
    judge = offline_judge()
    judge.learn_terms(list(bank.rubrics.values()))
    q, r = bank.question("lora-principle"), bank.rubric("lora-principle")
    unsure = [fitted_band().uncertain(judge.grade(q, r, text).score) for text in texts]
    assert 0 < sum(unsure) < n, "the rows must test both ways"
    return unsure


def audited_cache(tmp: Path) -> Path:
    """The grade cache made before the first run, with a log of every grade written."""
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


def query(db: Path, sql: str) -> Any:
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute(sql).fetchone()
    except sqlite3.OperationalError:  # not made yet, or busy
        return None


def jobs_at_least(db: Path, n: int) -> Callable[[], bool]:
    """Whether the audited cache at `db` has recorded `n` batch jobs."""
    return lambda: (query(db, "SELECT count(*) FROM batch_jobs") or (0,))[0] >= n


PG_AUDIT = (
    "CREATE TABLE grade_cache (key text PRIMARY KEY, grade text NOT NULL)",
    "CREATE TABLE writes (key text NOT NULL)",
    "CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN INSERT INTO writes (key) VALUES (NEW.key); RETURN NEW; END $$",
    # (an upsert that finds the key updates it: logged as well, as SQLite's REPLACE is)
    "CREATE TRIGGER log_write AFTER INSERT OR UPDATE ON grade_cache "
    "FOR EACH ROW EXECUTE FUNCTION log_write()",
)


class Audited:
    """The grade cache of the runs, made before the first one with a log `writes` of every
    grade written, and read from outside them: the SQLite file in the data folder, or the
    PostgreSQL database (its tables are SQLite's prefixed `grade_`). `query` takes SQLite's
    table names."""

    TABLES = ("batch_jobs", "batch_requests", "batch_submissions", "batch_submission_keys")

    def __init__(self, tmp: Path, database_url: str | None) -> None:
        self.url = database_url
        if database_url is None:
            self.db = audited_cache(tmp)
            return
        with psycopg.connect(database_url, autocommit=True) as conn:
            for statement in PG_AUDIT:
                conn.execute(statement)

    def query(self, sql: str) -> Any:
        if self.url is None:
            return query(self.db, sql)
        sql = re.sub(rf"\b({'|'.join(self.TABLES)})\b", r"grade_\1", sql)
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql).fetchone()


def batch_env(tmp: Path, bank: Path, url: str) -> dict[str, str]:
    return {
        **env(tmp, bank),
        "INTERVIEWER_OPENAI_BASE_URL": f"{url}/v1",
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": "sk-ant-test-0000",
    }


def command(src: Path, judge: str, *extra: str) -> list[str]:
    args = [str(src), "--out", "out.jsonl", "--judge", judge, "--batch-poll", "0.2", *extra]
    return [sys.executable, "-m", "interviewer", "grade", *args]


def signalled(
    cmd: list[str],
    cwd: Path,
    run_env: dict[str, str],
    ready: Callable[[], bool],
    what: str,
    sig: signal.Signals = signal.SIGKILL,
    timeout: float = 240,
) -> tuple[int, str]:
    """`cmd` started in its own process group, sent `sig` once `ready()` holds, and waited
    for: its exit code and what it wrote to stderr. Killed if the test fails on the way."""
    err_path = cwd / f"signalled-{time.monotonic_ns()}.err"
    with err_path.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=run_env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not ready():
                assert proc.poll() is None, f"the run ended before {what}"
                assert time.monotonic() < deadline, f"{what}: not in {timeout:.0f} s"
                time.sleep(0.02)
            os.killpg(proc.pid, sig)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return proc.returncode, err_path.read_text(encoding="utf-8")


def test_2000_rows_with_5_percent_failures_killed_after_submit_then_resumed(
    tmp_path: Path, small_bank: Path
) -> None:
    n = 2000
    src = answers(tmp_path / "answers.jsonl", n)
    db = audited_cache(tmp_path)
    state = BatchState(duration=600.0, fate=five_percent, reply=reply)
    with BatchServer(state) as srv:
        run_env = batch_env(tmp_path, small_bank, srv.url)
        cmd = command(src, "compatible:scripted", "--batch-api", "--batch-size", "500")
        # Killed after submitting, while the jobs run.
        code, _ = signalled(cmd, tmp_path, run_env, jobs_at_least(db, 4), "four batches submitted")
        assert code == -signal.SIGKILL
        assert not (tmp_path / "out.jsonl").exists()
        assert query(db, "SELECT count(*) FROM batch_requests") == (n,)
        assert query(db, "SELECT count(*) FROM writes") == (0,), "nothing collected yet"

        state.duration = 3.0  # the jobs now end 3 s after they were made: already ended
        resumed = run_cli([*cmd, "--resume", "--allow-fallback"], tmp_path, run_env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    err = resumed.stderr
    assert "resuming 4 batch job(s) submitted earlier, holding 2000 of the 2000 requests" in err
    assert "batch batch_0001: completed, 500/500 done (475 succeeded, 25 failed)" in err
    # Nothing was submitted twice: 2,000 requests in four files, each custom_id once.
    assert len(state.submitted) == n == len(set(state.submitted))
    assert [len(j.requests) for j in state.jobs.values()] == [500] * 4
    out = strict_results(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [f"r{i}" for i in range(n)]
    assert all(r["error"] is None and isinstance(r["score"], float) for r in out)
    failed = [i for i in range(n) if i % 20 == 7]
    flags = [cast(list[str], r["flags"]) for r in out]
    flagged = [i for i in range(n) if "judge_fallback" in flags[i]]
    assert flagged == failed and len(flagged) == 100  # 5%
    assert all(str(out[i]["judge"]).startswith("offline (fallback from") for i in flagged)
    assert f"{n} rows: {n} graded (0 from cache), 100 graded offline" in err
    # The evidence check ran on the batch's replies: invented quotes were dropped.
    invented = [i for i in range(3, n, 50) if i not in failed]
    assert invented and all("unverified_evidence" in flags[i] for i in invented)
    assert all(out[i]["judge"] == "compatible:scripted" for i in range(n) if i not in failed)
    # Every row graded once: one grade written per good row, none for a failed one.
    assert query(db, "SELECT count(*), count(DISTINCT key) FROM writes") == (n - 100, n - 100)
    assert query(db, "SELECT count(*) FROM batch_requests") == (0,)
    assert query(db, "SELECT count(*) FROM batch_jobs") == (0,)


def test_a_cascade_submits_only_its_uncertain_rows(tmp_path: Path, small_bank: Path) -> None:
    n = 40
    unsure = mixed_answers(tmp_path / "answers.jsonl", n, small_bank)
    db = audited_cache(tmp_path)
    state = BatchState(duration=0.5, reply=reply)
    with BatchServer(state) as srv:
        proc = run_cli(
            command(tmp_path / "answers.jsonl", "cascade:compatible:scripted", "--batch-api"),
            tmp_path,
            batch_env(tmp_path, small_bank, srv.url),
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    sent, kept = sum(unsure), n - sum(unsure)
    assert (
        f"cascade: {kept} of {n} answers kept offline ({kept / n:.0%}), {sent} uncertain "
        f"(band {fitted_band()}); {sent} requests submitted to the batch API"
    ) in proc.stderr, proc.stderr
    assert len(state.submitted) == sent == len(set(state.submitted))
    out = strict_results(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [f"r{i}" for i in range(n)]
    for r, uncertain in zip(out, unsure, strict=True):
        assert r["error"] is None
        kept_by = "offline (cascade, compatible:scripted not asked)"
        assert r["judge"] == ("cascade:compatible:scripted" if uncertain else kept_by), r
    assert query(db, "SELECT count(*), count(DISTINCT key) FROM writes") == (n, n)


def test_a_cascade_killed_after_submit_is_resumed_and_grades_every_row_once(
    tmp_path: Path, small_bank: Path
) -> None:
    n = 200
    unsure = mixed_answers(tmp_path / "answers.jsonl", n, small_bank)
    sent, kept = sum(unsure), n - sum(unsure)
    batches = -(-sent // 25)
    db = audited_cache(tmp_path)
    state = BatchState(duration=600.0, reply=reply)
    with BatchServer(state) as srv:
        run_env = batch_env(tmp_path, small_bank, srv.url)
        judge = "cascade:compatible:scripted"
        cmd = command(tmp_path / "answers.jsonl", judge, "--batch-api", "--batch-size", "25")
        # Killed after submitting, while the jobs run.
        ready = jobs_at_least(db, batches)
        code, _ = signalled(cmd, tmp_path, run_env, ready, "the batches submitted")
        assert code == -signal.SIGKILL
        assert query(db, "SELECT count(*) FROM batch_requests") == (sent,)
        # The rows the offline pass kept were cached before anything was submitted.
        assert query(db, "SELECT count(*) FROM writes") == (kept,)

        state.duration = 1.0  # the jobs have ended
        resumed = run_cli([*cmd, "--resume"], tmp_path, run_env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    err = resumed.stderr
    assert f"resuming {batches} batch job(s) submitted earlier, holding {sent} of the {sent}" in err
    assert "submitted batch" not in err and "answers kept offline" not in err
    # Nothing submitted twice, nothing certain submitted at all.
    keys = [key_of(c) for c in state.submitted]
    assert len(keys) == sent == len(set(keys))
    out = strict_results(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [f"r{i}" for i in range(n)]
    for r, uncertain in zip(out, unsure, strict=True):
        assert r["error"] is None
        kept_by = "offline (cascade, compatible:scripted not asked)"
        assert r["judge"] == (judge if uncertain else kept_by), r
    assert f"{n} rows: {n} graded ({kept} from cache)" in err
    # Every row graded once: one grade written per row, over both runs.
    assert query(db, "SELECT count(*), count(DISTINCT key) FROM writes") == (n, n)
    assert query(db, "SELECT count(*) FROM batch_jobs") == (0,)


def test_ctrl_c_while_waiting_leaves_the_job_to_resume(tmp_path: Path, small_bank: Path) -> None:
    src = answers(tmp_path / "answers.jsonl", 30)
    state = BatchState(duration=600.0, reply=reply)
    with BatchServer(state) as srv:
        run_env = batch_env(tmp_path, small_bank, srv.url)
        cmd = command(src, "anthropic:claude-test", "--batch-api")
        code, stderr = signalled(
            cmd,
            tmp_path,
            run_env,
            lambda: any(c.startswith("GET /v1/messages/batches/") for c in state.calls),
            "the job's status asked for",
            sig=signal.SIGINT,
            timeout=120,
        )
        assert code == 130, stderr
        assert "1 batch job(s) still at the provider (msgbatch_0001)" in stderr
        assert "--batch-api --resume" in stderr and "Traceback" not in stderr
        out = strict_results(tmp_path / "out.jsonl")
        # The job's state as last seen: "in_progress", or "not checked" when the Ctrl+C came
        # while its first status request was still in flight (the server had it; the
        # grader had no reply yet). Either way the row waits for --resume.
        seen = re.compile(r"in batch msgbatch_0001 \((in_progress|not checked)\), not collected")
        errors = [str(r["error"]) for r in out]
        assert len(out) == 30 and all(seen.search(e) for e in errors), errors[:3]

        # A plain run would pay again for these rows: refused, with the way to collect them.
        plain = run_cli(command(src, "anthropic:claude-test"), tmp_path, run_env)
        assert plain.returncode == 2 and "--resume" in plain.stderr, plain.stderr

        state.duration = 0.5
        again = run_cli([*cmd, "--resume"], tmp_path, run_env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(state.submitted) == 30 == len(set(state.submitted))
    out = strict_results(tmp_path / "out.jsonl")
    assert all(r["error"] is None and r["judge"] == "anthropic:claude-test" for r in out)


def test_a_wait_that_runs_out_exits_5_and_says_how_to_resume(
    tmp_path: Path, small_bank: Path
) -> None:
    src = answers(tmp_path / "answers.jsonl", 5)
    with BatchServer(BatchState(duration=600.0, reply=reply)) as srv:
        proc = run_cli(
            command(src, "compatible:scripted", "--batch-api", "--batch-wait", "0"),
            tmp_path,
            batch_env(tmp_path, small_bank, srv.url),
        )
    assert proc.returncode == 5, proc.stderr
    assert "submitted batch batch_0001: 5 requests (5/5 submitted)" in proc.stderr
    resume = (
        f"interviewer grade {src} --out out.jsonl --judge compatible:scripted --batch-poll 0.2 "
        "--batch-api --batch-wait 0 --resume"
    )
    assert resume in proc.stderr, proc.stderr
    out = strict_results(tmp_path / "out.jsonl")
    assert all(
        "in batch batch_0001 (in_progress), not collected yet" in str(r["error"]) for r in out
    )


def test_batch_api_needs_an_llm_judge_and_the_cache(tmp_path: Path, small_bank: Path) -> None:
    src = answers(tmp_path / "answers.jsonl", 2)
    base = [sys.executable, "-m", "interviewer", "grade", str(src)]
    for extra, message in (
        (["--batch-api"], "--batch-api needs an LLM judge"),
        (
            [
                "--judge",
                "compatible:m",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--resume",
                "--no-cache",
            ],
            "cannot run with --no-cache",
        ),
    ):
        proc = run_cli([*base, *extra], tmp_path, env(tmp_path, small_bank))
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr


CREATE = {
    "compatible:scripted": "POST /v1/batches",
    "anthropic:claude-test": "POST /v1/messages/batches",
}


@pytest.mark.parametrize("when", ["after_create", "before_create"])
@pytest.mark.parametrize("judge", list(CREATE))
def test_killed_between_submit_and_record_then_resumed_pays_once(
    tmp_path: Path, small_bank: Path, judge: str, when: str, database_url: str | None
) -> None:
    """SIGKILL while the provider makes the batch (its id not sent back yet: after_create)
    or while the create request is refused and retried (no batch made: before_create);
    --resume adopts the batch, or drops the pending submission and submits once. On both
    backends: the jobs recorded in the data folder's SQLite, or in PostgreSQL."""
    n = 40
    src = answers(tmp_path / "answers.jsonl", n)
    db = Audited(tmp_path, database_url)
    create = CREATE[judge]
    state = BatchState(duration=600.0, reply=reply)
    if when == "after_create":
        state.holds[create] = 60.0  # the batch is made; the reply waits
    else:
        state.faults[create] = [503] * 20  # refused, retried with back-off
    with BatchServer(state) as srv:
        run_env = batch_env(tmp_path, small_bank, srv.url)
        if database_url:
            run_env["INTERVIEWER_DATABASE_URL"] = database_url
        cmd = command(src, judge, "--batch-api")
        # after_create: the server made the job and holds its reply; before_create: the
        # server refused the create, and the run waits to retry it.
        code, _ = signalled(
            cmd,
            tmp_path,
            run_env,
            lambda: bool(state.jobs if when == "after_create" else create in state.calls),
            "the batch submitted",
            timeout=120,
        )
        assert code == -signal.SIGKILL
        assert db.query("SELECT count(*) FROM batch_submission_keys") == (n,), "pending"
        assert db.query("SELECT count(*) FROM batch_jobs") == (0,), "no job recorded"
        assert len(state.jobs) == (1 if when == "after_create" else 0)
        sub = db.query("SELECT submission_id FROM batch_submissions")[0]

        # A live run would pay again for rows the provider may have: refused.
        plain = run_cli(command(src, judge), tmp_path, run_env)
        assert plain.returncode == 2 and "left pending" in plain.stderr, plain.stderr

        state.holds.clear()
        state.faults.clear()
        state.duration = 1.0
        earlier = len(state.calls)
        resumed = run_cli([*cmd, "--resume"], tmp_path, run_env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    err = resumed.stderr
    [job_id] = state.jobs  # one batch at the provider, whatever the crash
    if when == "after_create":
        assert f"adopted batch {job_id} ({n} requests) of submission {sub}" in err, err
        assert "submitted batch" not in err
    else:
        assert f"dropped batch submission {sub}" in err, err
        assert f"submitted batch {job_id}: {n} requests" in err, err
    # The server's log: the resumed run asked for a batch only if none was made, and
    # every key went to the provider once.
    creates = [c for c in state.calls[earlier:] if c == create]
    assert len(creates) == (0 if when == "after_create" else 1)
    keys = [key_of(c) for c in state.submitted]
    assert len(keys) == n == len(set(keys))
    out = strict_results(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == [f"r{i}" for i in range(n)]
    assert all(r["error"] is None and r["judge"] == judge for r in out), out[:2]
    # Every row graded once: one grade written per row.
    assert db.query("SELECT count(*), count(DISTINCT key) FROM writes") == (n, n)
    for table in ("batch_submissions", "batch_submission_keys", "batch_jobs", "batch_requests"):
        assert db.query(f"SELECT count(*) FROM {table}") == (0,), table
    on_disk = (tmp_path / "data" / "interviewer" / "grade-cache.sqlite").exists()
    assert on_disk == (database_url is None)


def test_rows_of_an_unsettled_submission_leave_the_run_unfinished() -> None:
    """Their error says to run again with --resume; the run exits as unfinished (5) and
    prints the command, instead of counting them as failed rows."""
    run = BatchRun(results={})
    ok = BatchResult(id="a", line=1, score=1.0)
    wait = BatchResult(id="b", line=2, error=f"line 2: {UNSETTLED}")
    failed = BatchResult(id="c", line=3, error="line 3: unknown question_id")
    assert unfinished(run, [ok, wait]) and not unfinished(run, [ok, failed])
