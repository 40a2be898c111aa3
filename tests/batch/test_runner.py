"""The batch runner: order, bounded concurrency, the cache, a clean stop, long answers.

The runner's own logic is what is tested here, so most tests grade with a small async
function; the offline judge runs for real in tests/cli/test_grade_cli.py.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path
from typing import Any

from interviewer.bank.loader import load_bank
from interviewer.bank.schema import Question, Rubric
from interviewer.batch.cache import GradeCache
from interviewer.batch.inputs import Parsed, Row, RowError
from interviewer.batch.resolve import Resolver
from interviewer.batch.runner import (
    INTERRUPTED,
    MAX_ANSWER_CHARS,
    WORKER_DIED,
    BatchResult,
    OfflinePool,
    distinct_rubrics,
    plan,
    run,
)
from interviewer.judge import offline_judge
from interviewer.judge.schema import Grade, Verdict
from interviewer.judge.text import segmenter


def rows_for(n: int, answer: str = "LoRA 冻结原权重，只训练低秩矩阵 B 和 A。") -> list[Parsed]:
    return [
        Row(id=f"r{i}", line=i + 1, question_id="lora-principle", answer=f"{answer} #{i}")
        for i in range(n)
    ]


def fake_grade(delays: dict[str, float], log: list[str] | None = None):  # type: ignore[no-untyped-def]
    in_flight = {"now": 0, "max": 0}

    async def grade(question: Question, rubric: Rubric, answer: str) -> Grade:
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(delays.get(answer.rsplit("#", 1)[-1], 0.01))
        in_flight["now"] -= 1
        if log is not None:
            log.append(answer)
        if "boom" in answer:
            raise RuntimeError("provider exploded")
        verdicts = [Verdict(key_point=kp.id, verdict="covered") for kp in rubric.key_points]
        return Grade(verdicts=verdicts, score=100.0, judge="fake")

    return grade, in_flight


def test_results_come_back_in_input_order_with_bounded_concurrency(small_bank: Path) -> None:
    bank = load_bank(small_bank)
    rows = rows_for(12)
    jobs, errors = plan(rows, Resolver(bank, offline_judge().encoder), "fake")
    assert not errors
    # Later rows finish first.
    grade, in_flight = fake_grade({str(i): 0.05 - i * 0.004 for i in range(12)})
    results = asyncio.run(run(jobs, grade, cache=None, concurrency=3))
    assert [results[i].id for i in range(12)] == [f"r{i}" for i in range(12)]
    assert in_flight["max"] == 3
    assert all(r.score == 100.0 and r.error is None for r in results.values())


def test_unresolvable_and_failing_rows_become_error_rows(small_bank: Path) -> None:
    bank = load_bank(small_bank)
    rows: list[Parsed] = [
        Row(id="ok", line=1, question_id="lora-principle", answer="fine"),
        RowError(id="2", line=2, error="line 2: no `answer`"),
        Row(id="ghost", line=3, question_id="no-such-question", answer="x"),
        Row(id="far", line=4, question="你最喜欢的颜色是什么？", answer="蓝色"),
        Row(id="bad", line=5, question_id="lora-principle", answer="boom"),
    ]
    jobs, errors = plan(rows, Resolver(bank, offline_judge().encoder), "fake")
    assert sorted(errors) == [1, 2, 3]
    assert "no question with id 'no-such-question'" in (errors[2].error or "")
    assert (errors[3].error or "").startswith("line 4: the question matches nothing")
    grade, _ = fake_grade({})
    results = asyncio.run(run(jobs, grade, cache=None, concurrency=2))
    assert results[0].error is None
    assert results[4].error == "line 5: provider exploded"


def test_cache_skips_rows_already_graded(small_bank: Path, tmp_path: Path) -> None:
    bank = load_bank(small_bank)
    jobs, _ = plan(rows_for(6), Resolver(bank, offline_judge().encoder), "fake")
    cache = GradeCache(tmp_path / "cache.sqlite")
    first_log: list[str] = []
    grade, _ = fake_grade({}, first_log)
    asyncio.run(run(jobs[:4], grade, cache=cache, concurrency=2))
    cache.close()

    cache = GradeCache(tmp_path / "cache.sqlite")  # a new process would open it again
    second_log: list[str] = []
    grade, _ = fake_grade({}, second_log)
    results = asyncio.run(run(jobs, grade, cache=cache, concurrency=2))
    assert len(first_log) == 4
    assert sorted(second_log) == sorted(j.answer for j in jobs[4:])
    assert [results[i].cached for i in range(6)] == [True] * 4 + [False] * 2
    assert all(r.score == 100.0 for r in results.values())


def test_stop_finishes_rows_in_flight_and_marks_the_rest(small_bank: Path) -> None:
    bank = load_bank(small_bank)
    jobs, _ = plan(rows_for(10), Resolver(bank, offline_judge().encoder), "fake")
    stop = asyncio.Event()
    grade, _ = fake_grade({str(i): 0.05 for i in range(10)})

    async def main():  # type: ignore[no-untyped-def]
        task = asyncio.create_task(run(jobs, grade, cache=None, concurrency=2, stop=stop))
        await asyncio.sleep(0.07)  # the first two are done, the next two are in flight
        stop.set()
        return await task

    results = asyncio.run(main())
    graded = [i for i, r in results.items() if r.error is None]
    stopped = [i for i, r in results.items() if r.error == f"line {r.line}: {INTERRUPTED}"]
    assert graded == [0, 1, 2, 3]
    assert stopped == list(range(4, 10))


def test_an_answer_over_the_limit_is_graded_on_its_first_part_and_flagged(
    small_bank: Path,
) -> None:
    bank = load_bank(small_bank)
    rubric = bank.rubric("lora-principle")
    # A real answer, then about 1 MB of varied prose: the reference's own words, reordered.
    words = segmenter().cut(rubric.reference_answer.zh + rubric.reference_answer.en)
    rng = random.Random(5)
    filler: list[str] = []
    size = 0
    while size < 1_050_000:
        filler.append(" ".join(rng.choice(words) for _ in range(rng.randrange(8, 30))))
        size += len(filler[-1].encode())
    big = rubric.reference_answer.zh + "。".join(filler)
    assert len(big.encode()) > 1_000_000
    rows: list[Parsed] = [Row(id="big", line=1, question_id="lora-principle", answer=big)]
    jobs, _ = plan(rows, Resolver(bank, offline_judge().encoder), "offline")
    assert len(jobs[0].answer) == MAX_ANSWER_CHARS and jobs[0].truncated
    pool = OfflinePool(terms=[], workers=1)
    try:
        results = asyncio.run(run(jobs, pool.grade, cache=None, concurrency=2))
    finally:
        pool.close()
    assert results[0].error is None
    assert "truncated" in results[0].flags
    assert results[0].score is not None and results[0].score > 0


def test_a_worker_killed_mid_run_settles_every_row_and_the_run_ends(small_bank: Path) -> None:
    bank = load_bank(small_bank)
    jobs, _ = plan(rows_for(300), Resolver(bank, offline_judge().encoder), "offline")
    pool = OfflinePool(terms=[], workers=2, chunk=4)
    killed: list[int] = []

    def on_done(_: BatchResult) -> None:
        if not killed:
            pid = next(iter(pool.pool._processes))  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    async def main() -> dict[int, BatchResult]:
        return await asyncio.wait_for(
            run(jobs, pool.grade, cache=None, concurrency=pool.concurrency, on_done=on_done), 60
        )

    try:
        results = asyncio.run(main())  # before the fix: the wait never ended
    finally:
        pool.close(now=True)
    assert killed and sorted(results) == list(range(300))
    died = [r for r in results.values() if r.error and "worker process died" in r.error]
    assert died and all(r.error == f"line {r.line}: {WORKER_DIED}" for r in died)
    assert all((r.score is None) == (r.error is not None) for r in results.values())


def test_abort_stops_waiting_for_rows_in_flight(small_bank: Path) -> None:
    bank = load_bank(small_bank)
    jobs, _ = plan(rows_for(6), Resolver(bank, offline_judge().encoder), "fake")
    hung = asyncio.Event()

    async def grade(question: Question, rubric: Rubric, answer: str) -> Grade:
        await hung.wait()  # a worker that never answers
        raise AssertionError("unreachable")

    async def main() -> dict[int, BatchResult]:
        stop, abort = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(
            run(jobs, grade, cache=None, concurrency=2, stop=stop, abort=abort)
        )
        await asyncio.sleep(0.05)
        stop.set()  # first Ctrl+C: the two rows in flight would be waited for
        await asyncio.sleep(0.05)
        assert not task.done()
        abort.set()  # second Ctrl+C
        return await asyncio.wait_for(task, 5)

    results = asyncio.run(main())
    assert [results[i].error for i in range(6)] == [
        f"line {results[i].line}: {INTERRUPTED}" for i in range(6)
    ]


def reference_grade(log: list[str]):  # type: ignore[no-untyped-def]
    async def grade(question: Question, rubric: Rubric, answer: str) -> Grade:
        reference = rubric.reference_answer.en
        log.append(reference)
        score = 90.0 if reference == answer else 20.0
        return Grade(verdicts=[], score=score, judge="fake")

    return grade


def test_several_references_keep_the_best_grade_and_say_which(small_bank: Path) -> None:
    bank = load_bank(small_bank)
    rows: list[Parsed] = [
        Row(id="a", line=1, question="q?", references=["pop", "push", "peek"], answer="push"),
        Row(id="b", line=2, question="q?", reference="push", references=["pop"], answer="pop"),
        Row(id="c", line=3, question="q?", references=["push"], answer="push"),
        Row(id="d", line=4, question="q?", reference="push", answer="pull"),
        Row(id="e", line=5, question="q?", references=["x", "y"], answer="z"),
    ]
    jobs, errors = plan(rows, Resolver(bank, offline_judge().encoder), "fake")
    assert not errors and [len(j.targets) for j in jobs] == [3, 2, 1, 1, 2]
    log: list[str] = []
    results = asyncio.run(run(jobs, reference_grade(log), cache=None, concurrency=2))
    assert (results[0].score, results[0].reference_index) == (90.0, 1)
    assert (results[1].score, results[1].reference_index) == (90.0, 1)  # reference first
    assert (results[2].score, results[2].reference_index) == (90.0, 0)
    assert (results[3].score, results[3].reference_index) == (20.0, None)  # one `reference`
    assert (results[4].score, results[4].reference_index) == (20.0, 0)  # a tie: the first
    assert sorted(log) == sorted(["pop", "push", "peek", "push", "pop", "push", "push", "x", "y"])


def test_a_reference_the_answer_contradicts_does_not_grade_it(small_bank: Path) -> None:
    """An answer is graded by the reference whose negation it does not turn round, however
    high the one it turns round would score it ("the terminals are connected" contradicts
    the gap too, in other words, which `contradicts` does not read); an answer that turns
    every reference round keeps the best grade."""
    connected, gap = "the terminals are not connected", "there is a gap between the terminals"

    async def grade(question: Question, rubric: Rubric, answer: str) -> Grade:
        score = 85.0 if rubric.reference_answer.en == connected else 30.0
        return Grade(verdicts=[], score=score, judge="fake")

    given = [
        ([connected, gap], "The terminals are connected."),
        ([connected, gap], "They are not connected."),
        ([connected], "The terminals are connected."),
    ]
    rows: list[Parsed] = [
        Row(id=str(n), line=n, question="q?", references=refs, answer=answer)
        for n, (refs, answer) in enumerate(given, 1)
    ]
    jobs, errors = plan(rows, Resolver(load_bank(small_bank), offline_judge().encoder), "fake")
    assert not errors
    results = asyncio.run(run(jobs, grade, cache=None, concurrency=1))
    assert (results[0].score, results[0].reference_index) == (30.0, 1)
    assert (results[1].score, results[1].reference_index) == (85.0, 0)
    assert (results[2].score, results[2].reference_index) == (85.0, 0)  # it contradicts all

    async def gap_fails(question: Question, rubric: Rubric, answer: str) -> Grade:
        if rubric.reference_answer.en == gap:
            raise RuntimeError("the model timed out")
        return await grade(question, rubric, answer)

    results = asyncio.run(run(jobs[:2], gap_fails, cache=None, concurrency=1))
    # Not the 85 of the reference it contradicts: the row could not be graded.
    assert results[0].score is None and results[0].error == "line 1: the model timed out"
    assert (results[1].score, results[1].reference_index) == (85.0, 0)


class FakeJudge:
    spec = "fake"

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint


class SpecOnlyJudge:
    spec = "fake"


def test_the_cache_keys_on_the_judge_fingerprint(small_bank: Path, tmp_path: Path) -> None:
    bank = load_bank(small_bank)
    resolver = Resolver(bank, offline_judge().encoder)
    cache = GradeCache(tmp_path / "cache.sqlite")

    def graded_by(judge: object) -> list[str]:
        jobs, _ = plan(rows_for(3), resolver, judge)
        log: list[str] = []
        grade, _ = fake_grade({}, log)
        asyncio.run(run(jobs, grade, cache=cache, concurrency=2))
        return log

    assert len(graded_by(FakeJudge("fit-1"))) == 3
    assert graded_by(FakeJudge("fit-1")) == []  # cached
    assert len(graded_by(FakeJudge("fit-2"))) == 3  # refitted: graded again
    assert graded_by(FakeJudge("fit-1")) == []
    assert len(graded_by(SpecOnlyJudge())) == 3  # no fingerprint: the spec
    assert graded_by("fake") == []
    cache.close()


def test_chunks_name_the_pools_rubrics_by_index(small_bank: Path) -> None:
    """The rubrics go to each worker once; a chunk carries an index, not the rubric again
    (a rubric the pool was not given still travels whole), and the grades are the judge's."""
    bank = load_bank(small_bank)
    jobs, _ = plan(rows_for(5), Resolver(bank, offline_judge().encoder), "offline")
    question, rubric = jobs[0].question, jobs[0].rubric
    other = rubric.model_copy(update={"key_points": rubric.key_points[:2]})
    pool = OfflinePool(terms=[], workers=1, chunk=4, rubrics=distinct_rubrics(jobs))
    sent: list[Any] = []
    submit = pool.pool.submit

    def spy(fn: Any, *args: Any) -> Any:
        sent.append(args)
        return submit(fn, *args)

    pool.pool.submit = spy  # type: ignore[method-assign]
    assert pool.ref(question, rubric) == 0
    assert pool.ref(question, other) == (question, other)

    async def main() -> list[Grade]:
        graded = [pool.grade(j.question, j.rubric, j.answer) for j in jobs]
        graded.append(pool.grade(question, other, jobs[0].answer))
        return await asyncio.gather(*graded)

    try:
        grades = asyncio.run(main())
    finally:
        pool.close()
    items = [item for (chunk,) in sent for item in chunk]
    assert [ref for ref, _ in items] == [0, 0, 0, 0, 0, (question, other)]
    judge = offline_judge()
    want = [judge.grade(j.question, j.rubric, j.answer) for j in jobs]
    want.append(judge.grade(question, other, jobs[0].answer))
    assert [g.score for g in grades] == [g.score for g in want]
    assert [g.verdicts for g in grades] == [g.verdicts for g in want]
