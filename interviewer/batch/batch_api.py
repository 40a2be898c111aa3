"""Grade through a provider's batch API (`grade --batch-api`): half the price, no rate limits.

1. Every (row, rubric) not in the grade cache is one request, keyed by its cache key: rows
   with the same answer and rubric share one request, so nothing is graded twice.
0. A batch an earlier run was submitting when it crashed (recorded as a pending
   submission, not yet as a job) is looked for at the provider: adopted as a job if the
   provider has it, dropped (its rows submitted again) if not. Nothing is paid twice.
2. Keys already in a job recorded by an earlier run (a crash, Ctrl+C, a wait that ran
   out) are not submitted again: that job is collected instead (`--resume`).
3. A cascade judge (`cascade:PROVIDER:MODEL`) grades the others offline first, a group
   at a time (`LLMJudge.cascade_kept`, the live cascade's decision): an answer whose
   offline score is outside the uncertain band keeps that grade, cached under its key as
   the live cascade caches it (a rerun or --resume serves it), and is never sent. The
   rest go through the shared guards (a blocked answer is graded here and never sent)
   and are packed into batches within the provider's limits, each submitted as soon as
   it is full; each batch is recorded in the grade cache as a pending submission before
   the provider is asked, and replaced by its job as soon as the provider accepts it.
4. The jobs are polled with back-off (from `poll` seconds, doubling while nothing changes,
   up to `max_poll`), their counts printed, until they end, `wait` seconds pass, or Ctrl+C.
5. An ended job's results are mapped back by custom_id and checked exactly as the live LLM
   judge checks a reply (parsing, every quote against the answer). A request that failed
   (errored, expired, cancelled, no result, an unusable reply) is graded by the offline
   judge and flagged judge_fallback (not cached, so a later run asks the model again).
   The job's records are then dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from interviewer.batch.cache import BatchJob, JobCache, Submission
from interviewer.batch.provider_batch import BatchAPI, JobStatus, Limits, Outcome, Packer
from interviewer.batch.runner import BatchResult, Job, Target, best_result
from interviewer.judge.guards import GuardReport
from interviewer.judge.llm import LLMJudge, ReplyError
from interviewer.judge.schema import Grade
from interviewer.llm.retry import status_of
from interviewer.llm.types import TokenUsage

T = TypeVar("T")
# A submission younger than this, of a run that may still be alive, may still be in flight:
# one submission is up to two calls (an upload, then the create), each retried for up to
# 10 minutes with attempts of up to 10 minutes, so an hour is well past the longest.
OWNER_GRACE = 3600.0
GUARDS_IN_FLIGHT = 16
GUARD_GROUP = 1000  # answers graded offline (a cascade) and guarded at a time, then packed
COLLECT_CHUNK = 256  # results checked at a time (a batch can hold 100,000)


@dataclass
class Options:
    poll: float = 5.0  # seconds before the first status check; doubles while idle
    max_poll: float = 60.0
    wait: float = 24 * 3600.0  # stop waiting after this; the jobs stay recorded
    batch_size: int | None = None  # requests per batch (at most the provider's limit)


@dataclass
class BatchRun:
    results: dict[int, BatchResult]
    submitted: list[str] = field(default_factory=list)  # job ids submitted by this run
    resumed: list[str] = field(default_factory=list)  # job ids recorded by an earlier run
    running: list[JobStatus] = field(default_factory=list)  # not collected when we stopped


@dataclass
class _Item:
    target: Target
    answer: str


Say = Callable[[str], None]


class BatchGrader:
    def __init__(
        self,
        llm: LLMJudge,
        api: BatchAPI,
        cache: JobCache,
        options: Options,
        *,
        stop: asyncio.Event,
        say: Say,
    ) -> None:
        self.llm, self.api, self.cache, self.options = llm, api, cache, options
        self.stop, self.say = stop, say
        self.todo: dict[str, _Item] = {}
        self.reports: dict[str, GuardReport] = {}
        self.fallbacks: dict[str, Grade] = {}
        self.failed: dict[str, str] = {}  # key -> why its cascade's offline pass failed
        self.graded: set[str] = set()  # keys graded (and cached) by this run
        self.where: dict[str, str] = {}  # key -> the job id that holds it
        self.unsettled: set[str] = set()  # keys of pending submissions not settled
        self.held_by: str | None = None  # another run still submitting rows of this cache
        self._sent = 0  # requests submitted by this run

    async def run(self, jobs: list[Job]) -> BatchRun:
        for job in jobs:
            for t in job.targets:
                if t.key not in self.todo and self.cache.get(t.key) is None:
                    self.todo[t.key] = _Item(t, job.answer)
        await self._settle()
        known = self.cache.jobs_for(set(self.todo))
        for recorded in known:
            self.where.update((k, recorded.job_id) for k in recorded.keys)
        if known:
            held = sum(1 for k in self.todo if k in self.where)
            self.say(
                f"resuming {len(known)} batch job(s) submitted earlier, holding {held} of "
                f"the {len(self.todo)} requests left: {', '.join(j.job_id for j in known)}"
            )
        fresh = [k for k in self.todo if k not in self.where and k not in self.unsettled]
        if fresh and self.held_by is not None:
            # The other run submits the rows it holds no job for yet: these too, perhaps.
            self.say(
                f"{len(fresh)} request(s) not submitted: another run ({self.held_by}) is still "
                "submitting rows of this cache, and would submit them too"
            )
            fresh = []
        submitted = await self._submit(fresh) if fresh and not self.stop.is_set() else []
        running = await self._wait_and_collect([*known, *submitted])
        return BatchRun(
            results=self._results(jobs, running),
            submitted=[j.job_id for j in submitted],
            resumed=[j.job_id for j in known],
            running=running,
        )

    # --- pending submissions of a run that crashed -----------------------------------

    async def _settle(self) -> None:
        """Adopt or drop every submission of this run's rows that an earlier run recorded
        and did not replace by its job (it stopped between asking the provider and
        recording the answer). A submission of other rows is left alone: it may be another
        run's, still submitting on another machine, and that run or its --resume settles it."""
        todo = set(self.todo)
        pending = [s for s in self.cache.submissions() if not todo.isdisjoint(s.keys)]
        if not pending:
            return
        taken = self.cache.job_ids()  # a batch recorded already is no orphan
        for sub in pending:
            now = time.time()
            busy = submitting(sub, now)
            if busy is not None:
                self.say(
                    f"batch submission {sub.submission_id} ({len(sub.keys)} requests) is still "
                    f"being submitted by {busy} (started {now - sub.created_at:.0f} s ago; a "
                    f"--resume settles it after {OWNER_GRACE:.0f} s); its rows are left to "
                    "that run: run again with --resume once it has ended"
                )
                self.unsettled.update(sub.keys)
                self.held_by = self.held_by or busy
                continue
            if (sub.judge, sub.endpoint) != (self.llm.spec, self.llm.provider.endpoint):
                self.say(
                    f"batch submission {sub.submission_id} of {sub.judge} at {sub.endpoint} "
                    "was left pending by an earlier run; it is settled by a run with that "
                    "judge and endpoint"
                )
                self.unsettled.update(sub.keys)
                continue
            await self._settle_one(sub, taken)

    async def _settle_one(self, sub: Submission, taken: set[str]) -> None:
        try:
            found = await self.api.find(sub.submission_id, sub.created_at, len(sub.keys), taken)
        except Exception as exc:
            self.say(
                f"batch submission {sub.submission_id} ({len(sub.keys)} requests) was left "
                f"pending by an earlier run, and listing the provider's batches failed "
                f"({self.llm.describe(exc)}); its rows are not submitted again: run again "
                "with --resume to settle it"
            )
            self.unsettled.update(sub.keys)
            return
        if found is None:
            self.cache.drop_submission(sub.submission_id)
            self.say(
                f"dropped batch submission {sub.submission_id}: the provider has no batch from "
                "it (an earlier run stopped before the batch was made); its "
                f"{len(self.todo.keys() & set(sub.keys))} requests of this run are submitted again"
            )
            return
        taken.add(found.job_id)
        if not self._record(
            found.job_id, sub.judge, sub.endpoint, list(sub.keys), sub.submission_id
        ):
            self.say(OTHER_RUN.format(job_id=found.job_id))
            return
        self.say(
            f"adopted batch {found.job_id} ({len(sub.keys)} requests) of submission "
            f"{sub.submission_id}, which an earlier run submitted without recording it "
            f"({found.how})"
        )

    def _record(
        self, job_id: str, judge: str, endpoint: str, keys: list[str], submission_id: str
    ) -> bool:
        """Record the job in place of its submission; False when another run sharing the
        cache (a --resume on another machine) recorded it first, between the provider's
        create and this record: it holds the same keys, so nothing is lost or paid twice."""
        try:
            self.cache.record_job(job_id, judge, endpoint, keys, submission_id)
        except Exception:
            if job_id not in self.cache.job_ids():
                raise
            self.cache.drop_submission(submission_id)
            return False
        return True

    # --- submit ---------------------------------------------------------------------

    async def _submit(self, keys: list[str]) -> list[BatchJob]:
        """Guard, pack and submit: each batch goes as soon as it is full, so memory holds
        one batch at a time and the provider starts on the first one early."""
        await self.llm.preflight()  # a wrong key, model or URL: an error now, not a job
        limits = self.api.limits
        if self.options.batch_size:
            limits = Limits(min(limits.requests, self.options.batch_size), limits.bytes)
        packer = Packer(limits)
        submitted: list[BatchJob] = []
        self._sent = 0
        for start in range(0, len(keys), GUARD_GROUP):
            if self.stop.is_set():
                break
            group = keys[start : start + GUARD_GROUP]
            if self.llm.cascade is not None:
                group = await self._uncertain(group, start, len(keys))
            for key, report in await self._guards(group):
                item = self.todo[key]
                if report.blocked:  # empty, gibberish, off topic, an injection: never sent
                    grade = self.llm.blocked_grade(item.target.rubric, report, time.perf_counter())
                    self._keep(key, grade)
                    continue
                self.reports[key] = report
                sent = self.llm.request_for(
                    item.target.question, item.target.rubric, item.answer, report
                )
                full = packer.add(self.api.request(key, sent.system, sent.user, sent.schema))
                if full:
                    await self._submit_one(full, len(keys), submitted)
        rest = packer.rest()
        if rest and not self.stop.is_set():
            await self._submit_one(rest, len(keys), submitted)
        if self.llm.cascade is not None:
            self._say_cascade()
        left = sum(1 for k in keys if k not in self.where and self._open(k))
        if left and self.stop.is_set():
            self.say(f"stopped before submitting {left} requests")
        return submitted

    async def _uncertain(self, keys: list[str], done: int, total: int) -> list[str]:
        """The cascade's offline pass over a group: the keys whose answers go to the model.
        The others keep their offline grade, cached under their key."""

        async def first(key: str) -> Grade | None:
            target, answer = self.todo[key].target, self.todo[key].answer
            return await self.llm.cascade_kept(target.question, target.rubric, answer)

        # The whole group at once: the offline runner (a process pool) chunks it itself.
        firsts = await asyncio.gather(*(first(k) for k in keys), return_exceptions=True)
        uncertain: list[str] = []
        for key, got in zip(keys, firsts, strict=True):
            if isinstance(got, BaseException):
                if not isinstance(got, Exception):
                    raise got
                self.failed[key] = (
                    f"the offline pass of the cascade failed ({self.llm.describe(got)})"
                )
            elif got is None:
                uncertain.append(key)
            else:
                self._keep(key, got)
        if total > GUARD_GROUP:
            self.say(
                f"cascade: {done + len(keys):,}/{total:,} answers graded offline first, "
                f"{self.llm.kept:,} kept"
            )
        return uncertain

    def _say_cascade(self) -> None:
        kept, sent = self.llm.kept, self.llm.sent
        if kept + sent:
            self.say(
                f"cascade: {kept:,} of {kept + sent:,} answers kept offline "
                f"({kept / (kept + sent):.0%}), {sent:,} uncertain (band {self.llm.cascade}); "
                f"{self._sent:,} requests submitted to the batch API"
            )

    async def _guards(self, keys: list[str]) -> list[tuple[str, GuardReport]]:
        slots = asyncio.Semaphore(GUARDS_IN_FLIGHT)

        async def guard(key: str) -> tuple[str, GuardReport]:
            item = self.todo[key]
            async with slots:
                q, r = item.target.question, item.target.rubric
                return key, await self.llm.guard(q, r, item.answer)

        return await asyncio.gather(*(guard(k) for k in keys))

    async def _submit_one(
        self, chunk: list[dict[str, Any]], total: int, submitted: list[BatchJob]
    ) -> None:
        keys = [str(r["custom_id"]) for r in chunk]
        spec, endpoint = self.llm.spec, self.llm.provider.endpoint
        submission = secrets.token_hex(8)
        # Recorded before the provider is asked: a crash before the job is recorded leaves
        # this, and the next run finds the batch by it (_settle) instead of paying again.
        self.cache.record_submission(submission, spec, endpoint, keys, this_run())
        try:
            job_id = await self.api.submit(chunk, submission)
        except Exception as exc:
            # Refused (HTTP 4xx): no batch was made, the submission is forgotten. Anything
            # else (a timeout, a reset, a 5xx) may have made one: the submission stays, for
            # the next run to adopt or drop. This run grades the rows offline.
            status = status_of(exc)
            if status is not None and 400 <= status < 500:
                self.cache.drop_submission(submission)
            reason = f"submitting a batch failed ({self.llm.describe(exc)})"
            self.say(f"{reason}; its {len(chunk)} rows are graded offline")
            await self._fall_back_all(keys, reason)
            return
        if not self._record(job_id, spec, endpoint, keys, submission):
            self.say(OTHER_RUN.format(job_id=job_id))
        self.where.update((k, job_id) for k in keys)
        submitted.append(BatchJob(job_id, self.llm.spec, "", time.time(), tuple(keys)))
        self._sent += len(chunk)
        self.say(
            f"submitted batch {job_id}: {len(chunk)} requests ({self._sent}/{total} submitted)"
        )

    # --- wait and collect -----------------------------------------------------------

    async def _wait_and_collect(self, jobs: list[BatchJob]) -> list[JobStatus]:
        loop = asyncio.get_running_loop()
        active = {j.job_id: j for j in jobs}
        seen: dict[str, JobStatus] = {}
        deadline = loop.time() + self.options.wait
        interval = self.options.poll
        last_said = 0.0
        while active and not self.stop.is_set():
            changed = False
            for job_id in list(active):
                if self.stop.is_set():
                    break
                try:
                    # A status check that hangs (retried up to its deadline) is bounded by
                    # what is left of the wait (at least 30 s), and Ctrl+C ends it.
                    left = max(30.0, deadline - loop.time())
                    checked = await self._unless_stopped(
                        asyncio.wait_for(self.api.status(job_id), left)
                    )
                    if checked is None:
                        break
                    status = checked
                except Exception as exc:
                    if status_of(exc) == 404:
                        reason = f"the provider no longer has batch {job_id} (HTTP 404)"
                        self.say(f"{reason}; its rows are graded offline")
                        lost = [k for k in active.pop(job_id).keys if k in self.todo]
                        await self._fall_back_all(lost, reason)
                        self._forget(job_id, lost)
                        continue
                    self.say(f"batch {job_id}: status check failed ({self.llm.describe(exc)})")
                    continue
                before = seen.get(job_id)
                seen[job_id] = status
                if before != status:
                    changed = True
                if before != status or loop.time() - last_said > 60:
                    self.say(f"batch {status.describe()}")
                    last_said = loop.time()
                if status.ended and await self._collect(active[job_id]):
                    del active[job_id]
            if not active or loop.time() >= deadline:
                break
            interval = self.options.poll if changed else min(interval * 2, self.options.max_poll)
            with contextlib.suppress(TimeoutError):  # the interval passed, or Ctrl+C
                await asyncio.wait_for(self.stop.wait(), min(interval, deadline - loop.time()))
        return [
            seen.get(j) or JobStatus(j, "not checked", False, len(active[j].keys), 0, 0)
            for j in active
        ]

    async def _unless_stopped(self, call: Awaitable[T]) -> T | None:
        """`call`'s result, or None as soon as Ctrl+C stops the run (`call` is cancelled:
        only for calls without side effects, such as a status check)."""
        task = asyncio.ensure_future(call)
        stopper = asyncio.ensure_future(self.stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None

    async def _collect(self, job: BatchJob) -> bool:
        """Grade an ended job's results; False (try again later) if they cannot be read."""
        mine = [k for k in job.keys if k in self.todo]
        chunk: list[Outcome] = []
        try:
            async for outcome in self.api.results(job.job_id, mine):
                chunk.append(outcome)
                if len(chunk) >= COLLECT_CHUNK:
                    await self._grade_outcomes(chunk)
                    chunk = []
            await self._grade_outcomes(chunk)
        except Exception as exc:
            self.say(f"batch {job.job_id}: reading its results failed ({self.llm.describe(exc)})")
            return False
        self._forget(job.job_id, mine)
        return True

    def _forget(self, job_id: str, keys: list[str]) -> None:
        # Keys of rows not in this file stay recorded, for the run that has them.
        self.cache.drop_keys(job_id, keys)
        for key in keys:
            self.where.pop(key, None)

    async def _grade_outcomes(self, outcomes: list[Outcome]) -> None:
        slots = asyncio.Semaphore(GUARDS_IN_FLIGHT)

        async def one(outcome: Outcome) -> None:
            async with slots:
                await self._grade_outcome(outcome)

        await asyncio.gather(*(one(o) for o in outcomes if self._open(o.key)))

    def _open(self, key: str) -> bool:
        return key in self.todo and not (
            key in self.graded or key in self.fallbacks or key in self.failed
        )

    async def _grade_outcome(self, outcome: Outcome) -> None:
        item = self.todo[outcome.key]
        question, rubric = item.target.question, item.target.rubric
        started = time.perf_counter()
        report = self.reports.get(outcome.key)
        if report is None:  # resumed: the guards' report is made again (deterministic)
            report = await self.llm.guard(question, rubric, item.answer)
        reason = outcome.failure or "no reply"
        if outcome.completion is not None:
            try:
                grade = self.llm.grade_reply(
                    rubric, item.answer, report, outcome.completion, started
                )
            except ReplyError as exc:
                reason = f"unusable reply: {exc}"
            else:
                self._keep(outcome.key, grade)
                return
        self.fallbacks[outcome.key] = await self.llm.fallback_grade(
            question, rubric, item.answer, f"batch request failed: {reason}", TokenUsage(), started
        )

    async def _fall_back_all(self, keys: list[str], reason: str) -> None:
        await self._grade_outcomes([Outcome(k, failure=reason) for k in keys])

    def _keep(self, key: str, grade: Grade) -> None:
        self.cache.put(key, grade)
        self.graded.add(key)

    # --- results --------------------------------------------------------------------

    def _results(self, jobs: list[Job], running: list[JobStatus]) -> dict[int, BatchResult]:
        state = {s.job_id: s.state for s in running}
        results: dict[int, BatchResult] = {}
        for job in jobs:
            grades: dict[int, tuple[Grade, bool]] = {}
            missing: str | None = None
            for i, t in enumerate(job.targets):
                if t.key in self.fallbacks:
                    grades[i] = (self.fallbacks[t.key], False)
                elif (hit := self.cache.get(t.key)) is not None:
                    grades[i] = (hit, t.key not in self.graded)
                elif missing is None:
                    missing = self._not_yet(t.key, state)
            if missing is not None:
                results[job.index] = BatchResult(
                    id=job.row.id,
                    line=job.row.line,
                    question_id=job.question.id,
                    error=f"line {job.row.line}: {missing}",
                )
            else:
                results[job.index] = best_result(job, grades)
        return results

    def _not_yet(self, key: str, state: dict[str, str]) -> str:
        if key in self.failed:
            return self.failed[key]
        job_id = self.where.get(key)
        if job_id is None and self.held_by is not None:
            return HELD.format(who=self.held_by)
        if job_id is None and key in self.unsettled:
            return UNSETTLED
        if job_id is None:
            return NOT_SUBMITTED
        return (
            f"in batch {job_id} ({state.get(job_id, 'running')}), not collected yet; "
            "run the same command with --resume to collect it"
        )


UNSETTLED = (
    "in a batch submission an earlier run left pending, not settled yet; run the same "
    "command with --resume to settle it"
)
NOT_SUBMITTED = "not submitted (interrupted); run the same command with --resume to submit it"
ONCE_ENDED = "run the same command with --resume once it has ended"
HELD = "not submitted: another run ({who}) is still submitting rows of this cache; " + ONCE_ENDED
OTHER_RUN = (
    "batch {job_id} was recorded by another run sharing this cache while this one recorded "
    "it (a --resume elsewhere); both collect it, and each row is graded once"
)


def this_run() -> str:
    """Who submits: "host:pid", recorded with each submission."""
    return f"{socket.gethostname()}:{os.getpid()}"


def submitting(sub: Submission, now: float) -> str | None:
    """Who may still be submitting `sub` (so that settling it would pay for its rows
    twice), or None when it can be settled. Within `OWNER_GRACE` of its start: a process
    of this machine that is still alive, or a run on another machine. A submission older
    than that (no submission takes so long, and a process id may have been reused), or
    recorded by an older version (no owner), by this process, or by a process that has
    ended, is settled."""
    age = now - sub.created_at
    if not sub.owner or age >= OWNER_GRACE:
        return None
    host, _, pid_text = sub.owner.rpartition(":")
    if host == socket.gethostname():
        pid = int(pid_text) if pid_text.isdigit() else 0
        if pid in (0, os.getpid()) or not _alive(pid):
            return None
        return f"process {pid} on this machine"
    return f"the run {sub.owner}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
