"""Grade many rows at once: bounded concurrency, a shared back-off, a cache, and a clean stop.

- LLM judges: asyncio tasks, at most `concurrency` in flight; when the provider answers 429
  the shared RateGate makes every task wait, not just the one that was told.
- The offline judge: a pool of worker processes (one per core), each with its own model,
  since grading is CPU-bound Python.
- Every grade goes into the cache as soon as it is made, so a run that is killed loses
  nothing already graded, and a re-run grades only what is left.
- Ctrl+C stops handing out rows, lets the rows in flight finish, and returns; the rows not
  graded carry an error saying so. `abort` (a second Ctrl+C) stops waiting at once.
- A worker process that dies (killed, out of memory, a crash) breaks the pool: every row
  it had, and every row after it, is settled as an error row, so the run always ends.
- A row with several references is graded against each (one ad-hoc rubric per reference)
  and keeps the best grade among the references the answer does not contradict (says with
  its negation turned round); the result says which (`reference_index`).
- The cache key holds the judge's fingerprint (its fitted parameters and versions), so a
  refitted judge never serves an older judge's grades.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from interviewer.bank.schema import Question, Rubric
from interviewer.batch.cache import Cache, cache_key
from interviewer.batch.inputs import Parsed, Row, RowError
from interviewer.batch.resolve import Resolver, Unresolved
from interviewer.errors import InterviewerError
from interviewer.judge.adhoc import is_adhoc
from interviewer.judge.contradiction import graded_by
from interviewer.judge.guards import GuardReport, run_guards
from interviewer.judge.prepared import PreparedAnswer
from interviewer.judge.schema import Grade

MAX_ANSWER_CHARS = 20_000
INTERRUPTED = "interrupted before this row was graded; run again to finish (graded rows are cached)"
WORKER_DIED = (
    "a grading worker process died (killed, or out of memory) before this row was graded; "
    "run again to grade it"
)
START_METHOD_ENV = "INTERVIEWER_MP_START"  # fork, spawn or forkserver; the platform's default


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
    reference_index: int | None = None
    error: str | None = None
    cached: bool = Field(False, exclude=True)


@dataclass
class Target:
    """One rubric a row is graded against, and its cache key."""

    question: Question
    rubric: Rubric
    key: str


@dataclass
class Job:
    index: int
    row: Row
    targets: list[Target]
    answer: str
    truncated: bool
    several: bool = False  # the row gave `references`: its result records which one won

    @property
    def question(self) -> Question:
        return self.targets[0].question

    @property
    def rubric(self) -> Rubric:
        return self.targets[0].rubric

    @property
    def key(self) -> str:
        return self.targets[0].key


GradeFn = Callable[[Question, Rubric, str], Awaitable[Grade]]


def judge_key(judge: Any) -> str:
    """What the cache keys on: the judge's fingerprint, else its spec (or a spec string)."""
    if isinstance(judge, str):
        return judge
    return str(getattr(judge, "fingerprint", judge.spec))


def distinct_rubrics(jobs: list[Job]) -> list[tuple[Question, Rubric]]:
    seen: dict[tuple[str, int], tuple[Question, Rubric]] = {}
    for job in jobs:
        for t in job.targets:
            seen.setdefault((t.question.id, id(t.rubric)), (t.question, t.rubric))
    return list(seen.values())


def plan(
    rows: list[Parsed], resolver: Resolver, judge: Any
) -> tuple[list[Job], dict[int, BatchResult]]:
    """Resolve every row: jobs to grade, and error results for rows that cannot be graded.

    `judge` is the judge (its fingerprint keys the cache) or a spec string.
    """
    key_of = judge_key(judge)
    jobs: list[Job] = []
    errors: dict[int, BatchResult] = {}
    for index, row in enumerate(rows):
        if isinstance(row, RowError):
            errors[index] = BatchResult(id=row.id, line=row.line, error=row.error)
            continue
        try:
            pairs = resolver.resolve_all(row)
        except Unresolved as exc:
            errors[index] = BatchResult(id=row.id, line=row.line, error=str(exc))
            continue
        except InterviewerError as exc:
            errors[index] = BatchResult(
                id=row.id, line=row.line, error=f"line {row.line}: {exc.message}"
            )
            continue
        truncated = len(row.answer) > MAX_ANSWER_CHARS
        answer = row.answer[:MAX_ANSWER_CHARS] if truncated else row.answer
        targets = [Target(q, r, cache_key(key_of, r, answer)) for q, r in pairs]
        several = bool(row.references) and not row.question_id
        jobs.append(Job(index, row, targets, answer, truncated, several))
    return jobs, errors


def to_result(job: Job, grade: Grade, cached: bool, chosen: int = 0) -> BatchResult:
    flags = list(grade.flags)
    if job.truncated and "truncated" not in flags:
        flags.append("truncated")
    max_score = job.row.max_score
    question = job.targets[chosen].question
    return BatchResult(
        id=job.row.id,
        line=job.row.line,
        question_id=None if is_adhoc(question.id) else question.id,
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
        reference_index=chosen if job.several else None,
        cached=cached,
    )


def best_result(job: Job, grades: dict[int, tuple[Grade, bool]]) -> BatchResult:
    """The best-scoring grade (the first reference on a tie), among the references the
    answer does not contradict (`judge.contradiction`)."""
    scores = [grades[i][0].score if i in grades else None for i in range(len(job.targets))]
    references = [t.rubric.reference_answer.en for t in job.targets]
    chosen = graded_by(job.answer, references, scores, job.row.question or "")
    cached = all(was_cached for _, was_cached in grades.values())
    return to_result(job, grades[chosen][0], cached=cached, chosen=chosen)


async def run(
    jobs: list[Job],
    grade: GradeFn,
    *,
    cache: Cache | None,
    concurrency: int,
    on_done: Callable[[BatchResult], None] | None = None,
    stop: asyncio.Event | None = None,
    abort: asyncio.Event | None = None,
) -> dict[int, BatchResult]:
    """Grade the jobs; every job gets a result, even when stopped, aborted or a worker dies.

    `stop` ends handing out rows (the rows in flight finish); `abort` stops waiting for
    the rows in flight too. Rows not graded carry INTERRUPTED (after their line).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    results: dict[int, BatchResult] = {}
    pending: list[Job] = []
    for job in jobs:
        hits = [cache.get(t.key) if cache else None for t in job.targets]
        if all(h is not None for h in hits):
            results[job.index] = best_result(job, {i: (h, True) for i, h in enumerate(hits) if h})
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
            results[job.index] = await grade_job(job)
            if on_done:
                on_done(results[job.index])

    async def grade_job(job: Job) -> BatchResult:
        grades: dict[int, tuple[Grade, bool]] = {}
        failure: Exception | None = None
        for i, target in enumerate(job.targets):
            hit = cache.get(target.key) if cache else None
            if hit is not None:
                grades[i] = (hit, True)
                continue
            try:
                graded = await grade(target.question, target.rubric, job.answer)
            except Exception as exc:
                failure = failure or exc
                continue
            if cache and "judge_fallback" not in graded.flags:  # never cache a fallback
                cache.put(target.key, graded)
            grades[i] = (graded, False)
        try:
            return best_result(job, grades)
        except ValueError:  # no grade, or none by a reference the answer does not contradict
            if failure is None:
                raise
            return BatchResult(
                id=job.row.id, line=job.row.line, error=f"line {job.row.line}: {failure}"
            )

    everyone = asyncio.gather(*(worker() for _ in range(concurrency)))
    if abort is None:
        await everyone
    else:
        aborted: asyncio.Future[Any] = asyncio.ensure_future(abort.wait())
        either: set[asyncio.Future[Any]] = {everyone, aborted}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        aborted.cancel()
        if not everyone.done():
            everyone.cancel()
            await asyncio.gather(everyone, return_exceptions=True)
    for job in pending:
        if job.index not in results:
            results[job.index] = interrupted(job)
    return results


def interrupted(job: Job) -> BatchResult:
    """The result of a row a stop left ungraded."""
    return BatchResult(
        id=job.row.id,
        line=job.row.line,
        question_id=job.question.id,
        error=f"line {job.row.line}: {INTERRUPTED}",
    )


# --- offline grading in worker processes ---------------------------------------------------

_worker_judge: Any = None
_worker_rubrics: list[tuple[Question, Rubric]] = []

# What a chunk names a row's rubric by: its index in the pool's rubrics (sent to each worker
# once, when it starts), or the question and rubric themselves for a rubric not among them.
RubricRef = int | tuple[Question, Rubric]

# A worker embeds thousands of answers: keeping the first layer of 8,192 token ids (up to
# 109 MB, `judge/use_forward.py`) instead of 2,048 grades the benchmark's varied rows about a
# fifth faster.
WORKER_TOKEN_SLOTS = 8192


def _init_worker(
    terms: list[str], vectors: dict[str, Any], rubrics: list[tuple[Question, Rubric]]
) -> None:
    global _worker_judge, _worker_rubrics
    from threadpoolctl import threadpool_limits

    from interviewer.judge.offline import OfflineJudge
    from interviewer.judge.text import segmenter

    # Ctrl+C is the parent's to handle: it stops handing out rows and waits for the rows in
    # flight, which the workers must finish. Without this a spawned worker (macOS, and
    # Linux from Python 3.14) dies of KeyboardInterrupt and breaks the pool; a forked one
    # would also write the signal to the parent's wake-up fd it inherited.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)
    # One BLAS thread per worker: with a worker per core, more threads only fight.
    threadpool_limits(1)
    _worker_judge = OfflineJudge()
    _worker_judge.encoder.keep_tokens(WORKER_TOKEN_SLOTS)
    _worker_judge.warm_up()
    _worker_judge.encoder.seed(vectors)
    segmenter().add_terms(terms)
    _worker_rubrics = rubrics


def _grade_in_worker(items: list[tuple[RubricRef, str]]) -> list[Grade | str]:
    """Grade a chunk: its answers are embedded together first. A failure is its message."""
    assert _worker_judge is not None
    # Each answer prepared once, for the prefetch and its grades (one a reference).
    prepared = {answer: PreparedAnswer.of(answer) for _, answer in items}
    _worker_judge.prefetch(list(prepared.values()))
    out: list[Grade | str] = []
    for ref, answer in items:
        question, rubric = _worker_rubrics[ref] if isinstance(ref, int) else ref
        try:
            out.append(_worker_judge.grade(question, rubric, prepared[answer]))
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
        start_method: str | None = None,
    ) -> None:
        from interviewer.judge import offline_judge

        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.workers = workers or os.cpu_count() or 1
        self.chunk = chunk
        # The rubrics' own embeddings are made once here (or read from the disk store) and
        # handed to every worker, instead of each worker embedding every rubric again. The
        # terms are learned first, as the workers learn them: the rubrics' content words are
        # cut the way the workers will cut them, or the workers embed them all again.
        if rubrics:
            from interviewer.judge.text import segmenter

            segmenter().add_terms(terms)
        vectors = offline_judge().prepare_all(rubrics) if rubrics else {}
        # The rubrics go to each worker once; a chunk names them by index (pickling each
        # row's rubric again cost the parent, which shares the cores, and the workers).
        self.rubrics = list(rubrics or [])
        self._index = {(q.id, id(r)): i for i, (q, r) in enumerate(self.rubrics)}
        method = start_method or os.environ.get(START_METHOD_ENV) or None
        self.pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_init_worker,
            initargs=(terms, vectors, self.rubrics),
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

    def ref(self, question: Question, rubric: Rubric) -> RubricRef:
        """How a chunk names this rubric: its index in `rubrics`, else the pair itself."""
        index = self._index.get((question.id, id(rubric)))
        return (question, rubric) if index is None else index

    def _flush(self) -> None:
        self._flush_scheduled = False
        waiting, self._waiting = self._waiting, []
        for i in range(0, len(waiting), self.chunk):
            part = waiting[i : i + self.chunk]
            try:
                done = asyncio.get_running_loop().run_in_executor(
                    self.pool, _grade_in_worker, [(self.ref(q, r), a) for q, r, a, _ in part]
                )
            except Exception as exc:  # a broken pool refuses work: settle, never strand
                for *_, future in waiting[i:]:
                    if not future.done():
                        future.set_exception(_worker_error(exc))
                return
            done.add_done_callback(lambda f, part=part: _settle(f, part))  # type: ignore[misc]

    def close(self, now: bool = False) -> None:
        """Shut the workers down; `now` ends them at once instead of waiting for them."""
        if now:
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=not now, cancel_futures=True)


def _worker_error(exc: BaseException) -> Exception:
    if isinstance(exc, BrokenProcessPool):
        return RuntimeError(WORKER_DIED)
    return exc if isinstance(exc, Exception) else RuntimeError(repr(exc))


def _settle(
    done: asyncio.Future[list[Grade | str]],
    part: list[tuple[Question, Rubric, str, asyncio.Future[Grade]]],
) -> None:
    exc = done.exception() if not done.cancelled() else asyncio.CancelledError()
    if exc is not None and not isinstance(exc, asyncio.CancelledError):
        exc = _worker_error(exc)
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
