"""`interviewer grade --batch-api` / `--resume`: the provider's batch API, from the terminal.

Ctrl+C stops submitting (the batch being submitted is finished and recorded) or stops
waiting; the jobs stay at the provider and in the grade cache, and the command to collect
them is printed. A second Ctrl+C stops at once.
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console

from interviewer.errors import ConfigError

if TYPE_CHECKING:
    from interviewer.batch.batch_api import BatchRun, Options
    from interviewer.batch.cache import JobCache
    from interviewer.batch.runner import BatchResult, Job
    from interviewer.judge.llm import LLMJudge

EXIT_BATCH_RUNNING = 5  # batch jobs still running when the wait ended: run again --resume


@dataclass
class Stopped:
    stop: asyncio.Event
    abort: asyncio.Event


def check_batch_options(provider: str, no_cache: bool) -> None:
    if provider not in ("openai", "anthropic", "compatible"):
        raise ConfigError(
            "--batch-api needs an LLM judge: it sends the requests to a provider's batch API",
            hint="Add --judge openai:MODEL or --judge anthropic:MODEL (or compatible:MODEL "
            "with --base-url, for a server that implements the OpenAI Batch API).",
        )
    if no_cache:
        raise ConfigError(
            "--batch-api cannot run with --no-cache: the batch jobs are recorded in the grade "
            "cache, so that --resume can collect them",
            hint="Drop --no-cache.",
        )


def check_no_pending(cache: JobCache, jobs: list[Job]) -> None:
    """A live run must not pay again for rows that are in a batch job not yet collected."""
    keys = {t.key for j in jobs for t in j.targets}
    recorded = cache.jobs_for(keys)
    if recorded:
        ids = ", ".join(j.job_id for j in recorded[:5])
        raise ConfigError(
            f"rows of this file are in {len(recorded)} batch job(s) submitted earlier "
            f"and not collected yet ({ids})",
            hint=f"Collect them: {resume_command()}",
        )
    pending = [s for s in cache.submissions() if keys.intersection(s.keys)]
    if pending:
        ids = ", ".join(s.submission_id for s in pending[:5])
        raise ConfigError(
            f"rows of this file are in {len(pending)} batch submission(s) an earlier run "
            f"left pending ({ids}): the provider may have made the batch",
            hint=f"Adopt or drop them, and collect: {resume_command()}",
        )


def resume_command() -> str:
    args = [a for a in sys.argv[1:]]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["interviewer", *args])


async def run_batch_api(
    jobs: list[Job],
    llm: LLMJudge,
    cache: JobCache,
    options: Options,
    stopped: Stopped,
    err: Console,
) -> BatchRun | None:
    """Grade the jobs through the judge's batch API; None when stopped at once."""
    from interviewer.batch.batch_api import BatchGrader
    from interviewer.batch.provider_batch import batch_api

    def say(line: str) -> None:
        err.print(line, markup=False, highlight=False)

    loop = asyncio.get_running_loop()

    def interrupted() -> None:
        if stopped.stop.is_set():
            stopped.abort.set()
            task.cancel()
        else:
            stopped.stop.set()
            say("stopping: finishing the batch being submitted or read (Ctrl+C again to stop now)")

    grader = BatchGrader(llm, batch_api(llm.provider), cache, options, stop=stopped.stop, say=say)
    task = asyncio.ensure_future(grader.run(jobs))
    loop.add_signal_handler(signal.SIGINT, interrupted)
    try:
        return await task
    except asyncio.CancelledError:
        if not stopped.abort.is_set():
            raise
        say(
            "stopped at once: a batch being submitted stays recorded as a pending "
            "submission, which the next run adopts if the provider made it, or drops"
        )
        return None
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def unfinished(run: BatchRun | None, results: list[BatchResult]) -> bool:
    """Jobs still at the provider, or rows not submitted, not settled (a pending submission
    of an earlier run), left to a run still submitting, or not graded (stopped)."""
    from interviewer.batch.batch_api import NOT_SUBMITTED, ONCE_ENDED, UNSETTLED
    from interviewer.batch.runner import INTERRUPTED

    if run is None or run.running:
        return True
    ends = (NOT_SUBMITTED, UNSETTLED, ONCE_ENDED, INTERRUPTED)
    return any(r.error and r.error.endswith(ends) for r in results)


def say_how_to_resume(run: BatchRun | None, err: Console) -> None:
    running = run.running if run else []
    if running:
        ids = ", ".join(s.job_id for s in running[:10])
        err.print(
            f"{len(running)} batch job(s) still at the provider ({ids}); they are recorded in "
            "the grade cache. Collect their results later (the provider keeps them for "
            f"at least a day) with:\n  {resume_command()}",
            markup=False,
            highlight=False,
        )
    else:
        err.print(f"run again to finish:\n  {resume_command()}", markup=False, highlight=False)
