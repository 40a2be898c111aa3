"""Grade many rows at once: bounded concurrency, a shared back-off, a cache, and a clean stop.

- LLM judges: asyncio tasks, at most `concurrency` in flight; when the provider answers 429
  the shared RateGate makes every task wait, not just the one that was told.
- The offline judge: a pool of worker processes (one per core), each with its own model,
  since grading is CPU-bound Python.
- Every grade goes into the cache as soon as it is made, so a run that is killed loses
  nothing already graded, and a re-run grades only what is left.
- Ctrl+C stops handing out rows, lets the rows in flight finish, and returns; the rows not
  graded carry an error saying so.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from interviewer.bank.schema import Question, Rubric
from interviewer.batch.cache import GradeCache, cache_key
from interviewer.batch.inputs import Parsed, Row, RowError
from interviewer.batch.resolve import Resolver, Unresolved
from interviewer.judge.guards import GuardReport, run_guards
from interviewer.judge.schema import Grade

MAX_ANSWER_CHARS = 20_000
INTERRUPTED = "interrupted before this row was graded; run again to finish (graded rows are cached)"


class VerdictOut(BaseModel):
    key_point: str
    verdict: str
    evidence: str


class BatchResult(BaseModel):
    """One output row (DESIGN.md contract), in input order."""

    id: str
    line: int
    question_id: str | None = None
    score: float | None = None
    max_score: float | None = None
    scaled_score: float | None = None
    verdicts: list[VerdictOut] = Field(default_factory=list)
    misconceptions: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    judge: str | None = None
    error: str | None = None
    cached: bool = Field(False, exclude=True)


@dataclass
class Job:
    index: int
    row: Row
    question: Question
    rubric: Rubric
    answer: str
    truncated: bool
    key: str


GradeFn = Callable[[Question, Rubric, str], Awaitable[Grade]]


def distinct_rubrics(jobs: list[Job]) -> list[tuple[Question, Rubric]]:
    seen: dict[tuple[str, int], tuple[Question, Rubric]] = {}
    for job in jobs:
        seen.setdefault((job.question.id, id(job.rubric)), (job.question, job.rubric))
    return list(seen.values())


def plan(
    rows: list[Parsed], resolver: Resolver, judge_spec: str
) -> tuple[list[Job], dict[int, BatchResult]]:
    """Resolve every row: jobs to grade, and error results for rows that cannot be graded."""
    jobs: list[Job] = []
    errors: dict[int, BatchResult] = {}
    for index, row in enumerate(rows):
        if isinstance(row, RowError):
            errors[index] = BatchResult(id=row.id, line=row.line, error=row.error)
            continue
        try:
            question, rubric = resolver.resolve(row)
        except Unresolved as exc:
            errors[index] = BatchResult(id=row.id, line=row.line, error=str(exc))
            continue
        truncated = len(row.answer) > MAX_ANSWER_CHARS
        answer = row.answer[:MAX_ANSWER_CHARS] if truncated else row.answer
        key = cache_key(judge_spec, rubric, answer)
        jobs.append(Job(index, row, question, rubric, answer, truncated, key))
    return jobs, errors


def to_result(job: Job, grade: Grade, cached: bool) -> BatchResult:
    flags = list(grade.flags)
    if job.truncated and "truncated" not in flags:
        flags.append("truncated")
    max_score = job.row.max_score
    return BatchResult(
        id=job.row.id,
        line=job.row.line,
        question_id=None if job.question.id.startswith("adhoc-") else job.question.id,
        score=grade.score,
        max_score=max_score,
        scaled_score=round(grade.score * max_score / 100, 2) if max_score else None,
        verdicts=[
            VerdictOut(key_point=v.key_point, verdict=v.verdict, evidence=v.evidence)
            for v in grade.verdicts
        ],
        misconceptions=[m.id for m in grade.misconceptions],
        flags=flags,
        judge=grade.judge,
        cached=cached,
    )


async def run(
    jobs: list[Job],
    grade: GradeFn,
    *,
    cache: GradeCache | None,
    concurrency: int,
    on_done: Callable[[BatchResult], None] | None = None,
    stop: asyncio.Event | None = None,
) -> dict[int, BatchResult]:
    results: dict[int, BatchResult] = {}
    pending: list[Job] = []
    for job in jobs:
        hit = cache.get(job.key) if cache else None
        if hit is not None:
            results[job.index] = to_result(job, hit, cached=True)
            if on_done:
                on_done(results[job.index])
        else:
            pending.append(job)

    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in pending:
        queue.put_nowait(job)

    async def worker() -> None:
        while not (stop and stop.is_set()):
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                graded = await grade(job.question, job.rubric, job.answer)
            except Exception as exc:
                results[job.index] = BatchResult(
                    id=job.row.id, line=job.row.line, error=f"line {job.row.line}: {exc}"
                )
            else:
                if cache and "judge_fallback" not in graded.flags:  # never cache a fallback
                    cache.put(job.key, graded)
                results[job.index] = to_result(job, graded, cached=False)
            if on_done:
                on_done(results[job.index])

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    for job in pending:
        if job.index not in results:
            results[job.index] = BatchResult(
                id=job.row.id, line=job.row.line, question_id=job.question.id, error=INTERRUPTED
            )
    return results


# --- offline grading in worker processes ---------------------------------------------------

_worker_judge: Any = None


def _init_worker(terms: list[str], vectors: dict[str, Any]) -> None:
    global _worker_judge
    from threadpoolctl import threadpool_limits

    from interviewer.judge.offline import OfflineJudge
    from interviewer.judge.text import segmenter

    # One BLAS thread per worker: with a worker per core, more threads only fight.
    threadpool_limits(1)
    _worker_judge = OfflineJudge()
    _worker_judge.warm_up()
    _worker_judge.encoder.seed(vectors)
    segmenter().add_terms(terms)


def _grade_in_worker(items: list[tuple[Question, Rubric, str]]) -> list[Grade | str]:
    """Grade a chunk: its answers are embedded together first. A failure is its message."""
    assert _worker_judge is not None
    _worker_judge.prefetch([answer for _, _, answer in items])
    out: list[Grade | str] = []
    for question, rubric, answer in items:
        try:
            out.append(_worker_judge.grade(question, rubric, answer))
        except Exception as exc:  # one bad row must not fail its chunk
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def _guards_in_worker(question: Question, rubric: Rubric, answer: str) -> GuardReport:
    assert _worker_judge is not None
    return run_guards(question, rubric, answer, _worker_judge.encoder)


class OfflinePool:
    """Offline grading across processes; `workers` defaults to the number of cores.

    Rows are sent to the workers in chunks of up to `chunk` answers, which a worker embeds
    in one call: `grade` collects the rows that arrive together and flushes a chunk when it
    is full or when the event loop has nothing else to hand over.
    """

    def __init__(
        self,
        terms: list[str],
        workers: int | None = None,
        chunk: int = 16,
        rubrics: list[tuple[Question, Rubric]] | None = None,
    ) -> None:
        from interviewer.judge import offline_judge

        self.workers = workers or os.cpu_count() or 1
        self.chunk = chunk
        # The rubrics' own embeddings are made once here (or read from the disk store) and
        # handed to every worker, instead of each worker embedding every rubric again.
        vectors = offline_judge().prepare_all(rubrics) if rubrics else {}
        self.pool = ProcessPoolExecutor(
            max_workers=self.workers, initializer=_init_worker, initargs=(terms, vectors)
        )
        self._waiting: list[tuple[Question, Rubric, str, asyncio.Future[Grade]]] = []
        self._flush_scheduled = False

    @property
    def concurrency(self) -> int:
        """Rows to keep in flight so that every worker always has a chunk queued."""
        return self.workers * self.chunk * 2

    async def grade(self, question: Question, rubric: Rubric, answer: str) -> Grade:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Grade] = loop.create_future()
        self._waiting.append((question, rubric, answer, future))
        if len(self._waiting) >= self.chunk:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    async def guards(self, question: Question, rubric: Rubric, answer: str) -> GuardReport:
        """Run the guards in a worker (an LLM judge's `guard_runner` in batch grading)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, _guards_in_worker, question, rubric, answer)

    def _flush(self) -> None:
        self._flush_scheduled = False
        waiting, self._waiting = self._waiting, []
        for i in range(0, len(waiting), self.chunk):
            part = waiting[i : i + self.chunk]
            done = asyncio.get_running_loop().run_in_executor(
                self.pool, _grade_in_worker, [(q, r, a) for q, r, a, _ in part]
            )
            done.add_done_callback(lambda f, part=part: _settle(f, part))  # type: ignore[misc]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _settle(
    done: asyncio.Future[list[Grade | str]],
    part: list[tuple[Question, Rubric, str, asyncio.Future[Grade]]],
) -> None:
    exc = done.exception() if not done.cancelled() else asyncio.CancelledError()
    for i, (*_, future) in enumerate(part):
        if future.done():
            continue
        if exc is not None:
            future.set_exception(exc)
            continue
        result = done.result()[i]
        if isinstance(result, str):
            future.set_exception(RuntimeError(result))
        else:
            future.set_result(result)
