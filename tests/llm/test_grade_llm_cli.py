"""`interviewer grade` with an LLM judge, in a real subprocess against a scripted loopback
server (issue 13 items 3 and 8): a wrong key stops the run before any row; rows the judge
failed on are graded offline, counted, never cached, and make the exit code 4 unless
--allow-fallback; no request carries the OpenAI key to the compatible host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from interviewer.bank.loader import load_bank
from tests.judge.conftest import STRONG
from tests.judge.test_llm_faults import good_reply
from tests.support.scripted_http import ScriptedServer, Step, chat_reply

CANARY = "sk-canary-openai-123"


def grade(tmp: Path, bank: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTERVIEWER_", "OPENAI"))}
    env.update(
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        INTERVIEWER_BANK_DIR=str(bank),
        INTERVIEWER_MAX_RETRIES="0",
        OPENAI_API_KEY=CANARY,
        BASE_URL="http://127.0.0.1:9/v1",  # a generic variable that must redirect nothing
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "interviewer", "grade", "rows.jsonl", "--out", "out.jsonl"]
    command += ["--judge", "compatible:m", "--base-url", f"{url}/v1", "--concurrency", "2"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=300,
        check=False,
    )


def write_rows(tmp: Path) -> None:
    rows = [{"id": f"r{i}", "question_id": "lora-principle", "answer": STRONG} for i in (1, 2)]
    (tmp / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")


def out_rows(tmp: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp / "out.jsonl").read_text("utf-8").splitlines()]


def no_canary(srv: ScriptedServer) -> None:
    assert srv.script.requests
    for request in srv.script.requests:
        assert CANARY not in json.dumps(request["headers"]), request["headers"]


def test_wrong_key_stops_before_any_row(tmp_path: Path, small_bank: Path) -> None:
    write_rows(tmp_path)
    body = {"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}
    with ScriptedServer([Step(status=401, body=body)]) as srv:
        done = grade(tmp_path, small_bank, srv.url)
    assert done.returncode == 2, done.stderr
    assert "401" in done.stderr and "INTERVIEWER_COMPATIBLE_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(srv.script.requests) == 1, "one preflight request, no row sent"
    assert not (tmp_path / "out.jsonl").exists()
    no_canary(srv)


def test_fallback_is_counted_never_cached_and_fails_the_run(
    tmp_path: Path, small_bank: Path
) -> None:
    write_rows(tmp_path)
    down = Step(status=503, body={"error": {"message": "overloaded"}})
    with ScriptedServer([Step(body=chat_reply("p")), down]) as srv:
        first = grade(tmp_path, small_bank, srv.url)
        assert first.returncode == 4, first.stderr
        assert "2 graded offline after compatible:m failed" in first.stderr
        assert "--allow-fallback" in first.stderr
        for row in out_rows(tmp_path):
            assert row["judge"] == "offline (fallback from compatible:m)"
            assert "judge_fallback" in row["flags"]  # type: ignore[operator]

        srv.script.steps = [Step(body=chat_reply("p")), down]
        allowed = grade(tmp_path, small_bank, srv.url, "--allow-fallback")
        assert allowed.returncode == 0, allowed.stderr
        assert "(0 from cache)" in allowed.stderr, "the first run's fallbacks were not cached"

        # The model is back: the rows are graded by it, not served from a cache.
        bank = load_bank(small_bank)
        reply = chat_reply(json.dumps(good_reply(bank.rubric("lora-principle"))))
        srv.script.steps = [Step(body=reply)]
        back = grade(tmp_path, small_bank, srv.url)
        assert back.returncode == 0, back.stderr
        assert "(0 from cache)" in back.stderr and "graded offline" not in back.stderr
        assert [row["judge"] for row in out_rows(tmp_path)] == ["compatible:m"] * 2

        again = grade(tmp_path, small_bank, srv.url)
        assert again.returncode == 0 and "(2 from cache)" in again.stderr, again.stderr
    no_canary(srv)


def test_cascade_sends_only_uncertain_rows(tmp_path: Path, small_bank: Path) -> None:
    from interviewer.judge import offline_judge
    from interviewer.judge.cascade import fitted_band

    answers = [STRONG, "LoRA 只训练两个低秩矩阵 A 和 B，原来的权重冻结。", "我不知道。"]
    rows = [
        {"id": f"r{i}", "question_id": "lora-principle", "answer": a} for i, a in enumerate(answers)
    ]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    bank = load_bank(small_bank)
    judge = offline_judge()
    judge.learn_terms(list(bank.rubrics.values()))
    q, r = bank.question("lora-principle"), bank.rubric("lora-principle")
    band = fitted_band()
    uncertain = [band.uncertain(judge.grade(q, r, a).score) for a in answers]
    assert 0 < sum(uncertain) < len(answers), "the rows must test both ways"

    reply = Step(body=chat_reply(json.dumps(good_reply(r))))
    with ScriptedServer([reply]) as srv:
        done = grade(tmp_path, small_bank, srv.url, "--judge", "cascade:compatible:m")
        asked = len(srv.script.requests)
    assert done.returncode == 0, done.stderr
    assert asked == 1 + sum(uncertain), "the preflight, then only the uncertain rows"
    got = out_rows(tmp_path)
    for row, sent in zip(got, uncertain, strict=True):
        judged = str(row["judge"])
        assert judged == "cascade:compatible:m" if sent else judged.startswith("offline (cascade")
    assert f"cascade: {sum(uncertain)} of 3 answers graded went to compatible:m" in done.stderr
