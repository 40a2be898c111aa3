"""Batch grading throughput.

    python -m benchmarks.batch [--rows 2000] [--offline-repeats 3] [--llm-rows 400]
                               [--concurrency 20] [--repeats 3]

1. Offline: 2,000 generated rows (answers cut from the bank's reference answers, in both
   languages, over every question) graded by the offline judge in worker processes, one
   per core. Start-up (loading the model in each worker) is timed apart from grading.
   Target: >= 150 answers/s on a 2-core machine. Run --offline-repeats times, each in a
   new pool (on a shared 2-core machine one run of the same code varies by 10-20%), each
   run printed, then the median and the slowest.
2. LLM path: 400 rows against a loopback OpenAI-compatible server that answers every
   request after 100 ms, at concurrency 20. The ideal is 400 / 20 x 0.1 s = 2.0 s.
   Target: wall time <= 1.5 x ideal. Run --repeats times (the machine's other work shows
   up as noise), each run printed, then the median and the worst.
No cache is used, so every row is really graded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.queues
import random
import statistics
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.batch.inputs import Row
from interviewer.batch.resolve import Resolver
from interviewer.batch.runner import OfflinePool, distinct_rubrics, plan, run
from interviewer.config import JudgeSpec, load_settings
from interviewer.judge import make_judge, offline_judge
from interviewer.judge.guards import rubric_terms
from interviewer.judge.llm import LLMJudge
from interviewer.llm.retry import RateGate


def generated_rows(n: int, seed: int = 3) -> list[Row]:
    bank = load_bank()
    rng = random.Random(seed)
    ids = sorted(bank.rubrics)
    rows = []
    for i in range(n):
        rubric = bank.rubric(ids[i % len(ids)])
        text = rubric.reference_answer.zh if rng.random() < 0.7 else rubric.reference_answer.en
        text = text.replace("\n", "")
        start = rng.randrange(0, max(1, len(text) // 2))
        answer = text[start : start + rng.randrange(120, 400)]
        rows.append(Row(id=str(i), line=i + 1, question_id=rubric.question_id, answer=answer))
    return rows


def terms_of(bank: Bank) -> list[str]:
    return [t for r in bank.rubrics.values() for t in rubric_terms(r)]


def offline(rows: list[Row]) -> dict[str, float]:
    bank = load_bank()
    jobs, errors = plan(list(rows), Resolver(bank, offline_judge().encoder), "offline")
    assert not errors
    started = time.perf_counter()
    pool = OfflinePool(terms_of(bank), rubrics=distinct_rubrics(jobs))
    # start-up: one trivial grade per worker loads its model
    job = jobs[0]

    async def warm() -> None:
        await asyncio.gather(
            *(pool.grade(job.question, job.rubric, job.answer) for _ in range(pool.workers * 2))
        )

    asyncio.run(warm())
    startup = time.perf_counter() - started
    started = time.perf_counter()
    results = asyncio.run(run(jobs, pool.grade, cache=None, concurrency=pool.concurrency))
    elapsed = time.perf_counter() - started
    pool.close()
    assert len(results) == len(jobs) and not any(r.error for r in results.values())
    return {
        "rows": len(jobs),
        "workers": pool.workers,
        "startup_s": round(startup, 2),
        "grading_s": round(elapsed, 2),
        "answers_per_s": round(len(jobs) / elapsed, 1),
    }


class _Slow(BaseHTTPRequestHandler):
    delay = 0.1
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        schema = body["response_format"]["json_schema"]["schema"]
        kps = schema["properties"]["verdicts"]["required"]
        reply = {
            "verdicts": {k: {"verdict": "missed", "evidence": "", "reason": "-"} for k in kps},
            "misconceptions": [],
        }
        time.sleep(self.delay)
        data = json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "bench",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": json.dumps(reply)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def _serve(port: multiprocessing.queues.Queue[int]) -> None:
    server = _Server(("127.0.0.1", 0), _Slow)
    port.put(server.server_address[1])
    server.serve_forever()


def llm(rows: list[Row], concurrency: int) -> dict[str, float]:
    # The server runs in its own process, as a real one would: it must not share our GIL.
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.queues.Queue[int] = ctx.Queue()
    server = ctx.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    with TemporaryDirectory() as tmp:
        settings = load_settings(
            openai_base_url=f"http://127.0.0.1:{port}/v1", data_dir=Path(tmp), timeout=10
        )
        judge = make_judge(JudgeSpec.parse("compatible:bench"), settings, gate=RateGate())
        bank = load_bank()
        jobs, _ = plan(list(rows), Resolver(bank, offline_judge().encoder), "compatible:bench")
        # As `interviewer grade` does: the guards run in a worker process, so that their CPU
        # work does not hold up the requests in flight.
        guards = OfflinePool(terms_of(bank), workers=1, rubrics=distinct_rubrics(jobs))
        assert isinstance(judge, LLMJudge)
        judge.guard_runner = guards.guards
        asyncio.run(guards.guards(jobs[0].question, jobs[0].rubric, jobs[0].answer))  # start-up
        started = time.perf_counter()
        results = asyncio.run(run(jobs, judge.agrade, cache=None, concurrency=concurrency))
        elapsed = time.perf_counter() - started
        guards.close()
    server.terminate()
    fallbacks = sum(1 for r in results.values() if "judge_fallback" in r.flags)
    ideal = len(jobs) / concurrency * _Slow.delay
    return {
        "rows": len(jobs),
        "concurrency": concurrency,
        "wall_s": round(elapsed, 2),
        "ideal_s": round(ideal, 2),
        "ratio": round(elapsed / ideal, 2),
        "fallbacks": fallbacks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument(
        "--offline-repeats", type=int, default=3, help="runs of the offline path; 0 skips it"
    )
    parser.add_argument(
        "--llm-rows", type=int, default=400, help="rows for the LLM path; 0 skips it"
    )
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the LLM path")
    args = parser.parse_args()
    speeds = []
    for _ in range(args.offline_repeats):
        off = offline(generated_rows(args.rows))
        speeds.append(off["answers_per_s"])
        print(
            f"offline: {off['rows']} rows on {off['workers']} workers in {off['grading_s']} s "
            f"= {off['answers_per_s']} answers/s (target >= 150); start-up {off['startup_s']} s"
        )
    if len(speeds) > 1:
        print(
            f"offline over {len(speeds)} runs: median {statistics.median(speeds)} answers/s, "
            f"slowest {min(speeds)}"
        )
    ratios = []
    for _ in range(args.repeats if args.llm_rows > 0 else 0):
        on = llm(generated_rows(args.llm_rows, seed=4), args.concurrency)
        ratios.append(on["ratio"])
        print(
            f"llm path: {on['rows']} rows at concurrency {on['concurrency']} against a 100 ms "
            f"server: {on['wall_s']} s, ideal {on['ideal_s']} s, ratio {on['ratio']} "
            f"(target <= 1.5); fallbacks {on['fallbacks']}"
        )
    if len(ratios) > 1:
        print(
            f"llm path over {len(ratios)} runs: median ratio {statistics.median(ratios)}, "
            f"worst {max(ratios)}"
        )


if __name__ == "__main__":
    main()
