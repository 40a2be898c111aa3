"""Concurrent interviews on one shared state: SQLite (one file) or PostgreSQL.

    python -m benchmarks.concurrency --backend sqlite|postgres [--interviews 50]
        [--processes 4] [--questions 3]

N scripted interviews (the candidates of interviewer.interview.simulate, in turn: strong,
partial, follow-through, terse...) run at once across P processes, one thread per
interview, every process on the same state: one `interviews.sqlite` and transcripts folder,
or one PostgreSQL database (a server this script starts in a temporary folder, fsync on, as
a real one; tests/support/pgserver.py). The offline judge and the scripted interviewer: no
network. Each process loads its judge before the clock starts.

A step is one call that moves an interview (`start`, or `send` of an answer): the graph
runs, its checkpoints are saved, the transcript is rewritten, the review items updated.
Reported: steps per second over the wall time of the run, the median and p95 step latency,
and the part of each step spent in storage (checkpointer and transcript store calls).

Then every interview is checked against what its candidate sent: finished, every answer in
the transcript and in the checkpoint, once and in order (`verify`; a problem makes the exit
code 1). tests/interview/test_concurrency.py runs a smaller count through the same code.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from interviewer.bank.loader import load_bank
from interviewer.config import Settings, load_settings
from interviewer.interview.checkpoints import open_checkpointer
from interviewer.interview.context import InterviewContext
from interviewer.interview.session import Session
from interviewer.interview.simulate import MAX_MOVES, Turn, candidates
from interviewer.transcript.store import open_transcripts


class Job(BaseModel):
    interview_id: str
    candidate: str
    lang: str
    seed: int


class Done(BaseModel):
    """One interview as its process ran it."""

    interview_id: str
    sent: list[str]  # every answer sent, in order
    steps: list[float]  # seconds per step
    storage: list[float]  # seconds of each step spent in the checkpointer and the store
    error: str | None = None


class Figures(BaseModel):
    backend: str
    interviews: int
    processes: int
    steps: int
    wall: float
    steps_per_second: float
    median_ms: float
    p95_ms: float
    storage_median_ms: float
    storage_p95_ms: float
    problems: list[str]


def settings_for(data_dir: Path, database_url: str | None) -> Settings:
    return load_settings(
        judge="offline",
        interviewer="scripted",
        data_dir=data_dir,
        transcripts_dir=data_dir / "transcripts",
        database_url=database_url,
    )


def plan(n: int, tag: str) -> list[Job]:
    names = [c.name for c in candidates()]
    return [
        Job(
            interview_id=f"{tag}-{i:03d}",
            candidate=names[i % len(names)],
            lang=("zh", "en")[i // len(names) % 2],
            seed=i,
        )
        for i in range(n)
    ]


# --- one interview ------------------------------------------------------------------------


class Clock:
    """Seconds spent in storage calls, per thread (one interview per thread)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def take(self) -> float:
        spent = float(getattr(self.local, "spent", 0.0))
        self.local.spent = 0.0
        return spent

    def wrap(self, obj: Any, names: tuple[str, ...]) -> None:
        for name in names:
            setattr(obj, name, self._timed(getattr(obj, name)))

    def _timed(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.local.spent = getattr(self.local, "spent", 0.0) + (time.perf_counter() - start)

        return timed


SAVER_CALLS = ("put", "put_writes", "get_tuple", "list")
STORE_CALLS = ("save", "load", "exists")


def interview(job: Job, settings: Settings, bank: Any, questions: int, clock: Clock) -> Done:
    candidate = next(c for c in candidates() if c.name == job.candidate)
    ctx = InterviewContext(
        lang="zh" if job.lang == "zh" else "en",
        mode="exam",
        questions=questions,
        seed=job.seed,
        follow_up_limit=2,
    )
    done = Done(interview_id=job.interview_id, sent=[], steps=[], storage=[])
    session = Session.open(settings, ctx, bank=bank, interview_id=job.interview_id)
    clock.wrap(session.graph.checkpointer, SAVER_CALLS)
    clock.wrap(session.store, STORE_CALLS)

    @contextmanager
    def step() -> Iterator[None]:
        clock.take()
        start = time.perf_counter()
        yield
        done.steps.append(time.perf_counter() - start)
        done.storage.append(clock.take())

    try:
        with step():
            session.start()
        answered = 0
        while not session.done and answered < MAX_MOVES:
            current = session.values["current"]
            qid = current["question_id"]
            text = candidate.reply(
                Turn(
                    question=bank.question(qid),
                    rubric=bank.rubric(qid),
                    lang=job.lang,
                    follow_up=bool(current["attempts"]),
                    probes=current.get("pending_probe"),
                    answered=answered,
                )
            )
            answered += 1
            with step():
                session.send("answer", text)
            done.sent.append(text)
    except Exception:
        done.error = traceback.format_exc(limit=8)
    finally:
        session.close()
    return done


# --- one process --------------------------------------------------------------------------


def worker(
    jobs: list[dict[str, Any]],
    data_dir: str,
    database_url: str | None,
    questions: int,
    ready: Barrier,
    results: Any,
) -> None:
    """A child process: warm the judge up, wait for the others, run its interviews at once."""
    try:
        settings = settings_for(Path(data_dir), database_url)
        bank = load_bank(settings.bank_dir)
        warm = Session.open(
            settings, InterviewContext(), bank=bank, interview_id=f"warm-up-{os.getpid()}"
        )
        warm.warm_up()  # the offline judge's model and the bank's rubrics, before the clock
        warm.close()
        todo = [Job.model_validate(j) for j in jobs]
        clock = Clock()
        ready.wait()
        with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
            runs = list(pool.map(lambda j: interview(j, settings, bank, questions, clock), todo))
        results.put([r.model_dump() for r in runs])
    except BaseException:
        results.put({"crash": traceback.format_exc()})
        raise


def run(
    *,
    database_url: str | None,
    data_dir: Path,
    interviews: int,
    processes: int,
    questions: int,
    tag: str = "bench",
) -> tuple[list[Done], float]:
    """Run the interviews across `processes` children; returns what each did and the wall
    time from when all were ready to when the last finished."""
    ctx = multiprocessing.get_context("spawn")
    jobs = plan(interviews, tag)
    shares = [jobs[i::processes] for i in range(processes)]
    ready = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    children = [
        ctx.Process(
            target=worker,
            args=(
                [j.model_dump() for j in share],
                str(data_dir),
                database_url,
                questions,
                ready,
                results,
            ),
        )
        for share in shares
    ]
    for child in children:
        child.start()
    try:
        ready.wait(timeout=600)
        start = time.perf_counter()
        done: list[Done] = []
        for _ in children:
            got = results.get(timeout=1800)
            if isinstance(got, dict):
                raise RuntimeError(f"a worker process crashed:\n{got['crash']}")
            done += [Done.model_validate(d) for d in got]
        wall = time.perf_counter() - start
    finally:
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
    return done, wall


def verify(settings: Settings, done: list[Done], expected: int) -> list[str]:
    """What was lost or doubled: each interview finished, with every answer sent in its
    transcript and in its last checkpoint, once and in order."""
    problems = []
    if len(done) != expected:
        problems.append(f"{len(done)} interviews reported, {expected} run")
    store = open_transcripts(settings)
    checkpointer = open_checkpointer(settings)
    try:
        for d in done:
            if d.error:
                problems.append(f"{d.interview_id}: failed: {d.error}")
                continue
            transcript = store.load(d.interview_id)
            said = [m.text for m in transcript.messages if m.role == "candidate"]
            graded = [a.answer for turn in transcript.turns for a in turn.attempts]
            saved = checkpointer.saver.get_tuple({"configurable": {"thread_id": d.interview_id}})
            values = saved.checkpoint["channel_values"] if saved else {}
            messages = values.get("messages", [])
            in_checkpoint = [m["text"] for m in messages if m["role"] == "candidate"]
            if not transcript.finished or not values.get("done"):
                problems.append(f"{d.interview_id}: not finished")
            if said != d.sent:
                problems.append(f"{d.interview_id}: transcript answers {said} != sent {d.sent}")
            if graded != d.sent:
                problems.append(f"{d.interview_id}: graded answers {graded} != sent {d.sent}")
            if in_checkpoint != d.sent:
                problems.append(f"{d.interview_id}: checkpoint answers differ from those sent")
            if len(d.steps) != len(d.sent) + 1:
                problems.append(f"{d.interview_id}: {len(d.steps)} steps for {len(d.sent)} answers")
    finally:
        checkpointer.close()
    return problems


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def figures(
    backend: str, done: list[Done], wall: float, processes: int, problems: list[str]
) -> Figures:
    steps = [s for d in done for s in d.steps]
    storage = [s for d in done for s in d.storage]
    return Figures(
        backend=backend,
        interviews=len(done),
        processes=processes,
        steps=len(steps),
        wall=wall,
        steps_per_second=len(steps) / wall if wall else 0.0,
        median_ms=statistics.median(steps) * 1000 if steps else 0.0,
        p95_ms=percentile(steps, 0.95) * 1000,
        storage_median_ms=statistics.median(storage) * 1000 if storage else 0.0,
        storage_p95_ms=percentile(storage, 0.95) * 1000,
        problems=problems,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--interviews", type=int, default=50)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--questions", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="interviewer-bench-") as tmp:
        server = None
        url = None
        if args.backend == "postgres":
            from tests.support.pgserver import PgServer

            server = PgServer(fsync=True).start()
            url = server.create_database("bench")
        try:
            data = Path(tmp) / "data"
            done, wall = run(
                database_url=url,
                data_dir=data,
                interviews=args.interviews,
                processes=args.processes,
                questions=args.questions,
            )
            settings = settings_for(data, url)
            result = figures(args.backend, done, wall, args.processes, [])
            result.problems = verify(settings, done, args.interviews)
        finally:
            if server is not None:
                from interviewer import pg

                pg.close_all()
                server.stop()
    print(
        f"{result.backend}: {result.interviews} interviews across {result.processes} processes, "
        f"{result.steps} steps in {result.wall:.1f} s = {result.steps_per_second:.2f} steps/s; "
        f"step latency median {result.median_ms:.0f} ms, p95 {result.p95_ms:.0f} ms; "
        f"storage per step median {result.storage_median_ms:.1f} ms, "
        f"p95 {result.storage_p95_ms:.1f} ms"
    )
    for problem in result.problems:
        print(f"PROBLEM {problem}")
    print("lost: none" if not result.problems else f"{len(result.problems)} problems")
    return 1 if result.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
