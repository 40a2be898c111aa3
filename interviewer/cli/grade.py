"""`interviewer grade FILE`: grade many written answers with one judge."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from interviewer.cli.common import ApiKeyEnvOpt, handles_errors
from interviewer.config import JudgeSpec, Settings
from interviewer.errors import ConfigError

if TYPE_CHECKING:
    # Only for type hints: the batch modules import the judges (numpy and more), which
    # the other commands, and the TUI's first screen, do not need.
    from interviewer.batch.batch_api import BatchRun
    from interviewer.batch.inputs import Parsed
    from interviewer.batch.runner import BatchResult, Job
    from interviewer.judge import Judge

err = Console(stderr=True, highlight=False, soft_wrap=True)

# One exit code per meaning (also in the command's help).
EXIT_GRADED = 0  # every row graded
EXIT_ROWS_FAILED = 1  # some rows are error rows; the others were graded
EXIT_USAGE = 2  # nothing graded: a bad option, an unusable file or output path
EXIT_NOT_WRITTEN = 3  # graded (and cached), but an output could not be written
EXIT_FALLBACK = 4  # the LLM judge failed on some rows; the offline judge graded them
EXIT_BATCH_RUNNING = 5  # --batch-api: jobs still running when the wait ended; --resume later
EXIT_INTERRUPTED = 130  # Ctrl+C: the rows in flight were finished, the rest are marked


@handles_errors
def grade_command(
    file: Annotated[Path, typer.Argument(help="Answers: .jsonl, .csv or .md.", exists=False)],
    out: Annotated[
        Path | None, typer.Option(help="Results JSONL (default: FILE.results.jsonl).")
    ] = None,
    judge: Annotated[
        str,
        typer.Option(help="offline, openai:M, anthropic:M, compatible:M, cascade:PROVIDER:M"),
    ] = "",
    base_url: Annotated[str | None, typer.Option(help="Base URL for compatible:MODEL.")] = None,
    api_key_env: ApiKeyEnvOpt = None,
    allow_fallback: Annotated[
        bool,
        typer.Option(
            "--allow-fallback",
            help="Exit 0 even if the LLM judge failed on some rows and the offline judge "
            "graded them (flagged judge_fallback; never cached).",
        ),
    ] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Also write a CSV.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a report: .md or .html.")] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Offline: worker processes (default: one per core). LLM judges: requests "
            "in flight (default 8).",
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Grade every row again.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Count and estimate; grade nothing.")] = False,
    bank_dir: Annotated[Path | None, typer.Option("--bank", help="Bank folder.")] = None,
    batch_api: Annotated[
        bool,
        typer.Option(
            "--batch-api",
            help="Send the requests through the provider's batch API (OpenAI Batch API, "
            "Anthropic Message Batches): half the price, no rate limits, results within 24h. "
            "The jobs are recorded in the grade cache; if the run stops, --resume collects them.",
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Collect the batch jobs an earlier --batch-api run of these rows submitted "
            "(after a crash, Ctrl+C or --batch-wait), and submit what is left. "
            "Implies --batch-api.",
        ),
    ] = False,
    batch_wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="--batch-api: seconds to wait for the jobs, printing their counts; then stop "
            "(exit 5) and collect later with --resume. 0 submits and exits at once.",
        ),
    ] = 24 * 3600.0,
    batch_poll: Annotated[
        float,
        typer.Option(
            min=0.01,
            help="--batch-api: seconds before the first status check; doubles while nothing "
            "changes, up to 60.",
        ),
    ] = 5.0,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="--batch-api: requests per batch (default and maximum: the provider's limit, "
            "50,000 for OpenAI, 100,000 for Anthropic; 200 MB / 256 MB).",
        ),
    ] = None,
) -> None:
    """Grade a file of written answers and write one result per row, in input order.

    Each row names a bank question (`question_id`), gives question text to match to the
    bank (`question`), or carries its own rubric (`key_points` and/or `reference`, or
    `references`: a JSON list of acceptable answers, graded against each, best kept among
    those the answer does not contradict).
    A row that cannot be graded becomes an error row naming its line; the others are
    graded anyway. A row whose id an earlier row used is an error row (with a warning).
    A re-run skips rows already graded (cached by rubric, answer and judge fingerprint);
    grades the offline judge made after an LLM judge failed are never cached. An LLM
    judge is checked with one cheap request before any row.

    Exit codes: 0 every row graded; 1 some rows are error rows, the others graded;
    2 nothing graded: a bad option, an unusable input file, a judge that cannot be used
    (wrong key, model or URL), or an output (--out, --csv, --report) that is an input
    file or cannot be written; 3 graded and cached, but an output could not be written
    (run again); 4 the LLM judge failed on some rows and the offline judge graded them
    (flag judge_fallback; exit 0 with --allow-fallback); 5 --batch-api jobs still running
    when --batch-wait ended (their rows are marked; collect them with --resume); 130
    interrupted by Ctrl+C (rows in flight finished, the rest marked; run again to finish;
    a second Ctrl+C stops at once).

    With --judge cascade:openai:MODEL (any model spec after cascade:), the offline judge
    grades every row first and only rows whose offline score is in the band where it is
    often wrong go to the model (the band and its figures: interviewer eval). With
    --batch-api too, only those rows are submitted; the others keep the offline grade.

    With --batch-api the requests go to the provider's batch API in files within its limits;
    each job is recorded in the grade cache as soon as it is accepted, its counts are
    printed while it runs, and its results are checked exactly as the live judge's (every
    quote against the answer). A request that failed (errored, expired, an unusable reply)
    is graded by the offline judge and flagged judge_fallback. If the run stops (a crash,
    Ctrl+C, --batch-wait), `--resume` collects the jobs: no row is submitted twice.

    Example: interviewer grade examples/answers.jsonl --report report.md

    Example: interviewer grade quiz.csv --judge cascade:openai:gpt-4o-mini --dry-run

    Example: interviewer grade answers.jsonl --judge openai:gpt-4o-mini --batch-api
    """
    from interviewer.bank.loader import load_bank
    from interviewer.batch.batch_api import Options
    from interviewer.batch.cache import open_grade_cache
    from interviewer.batch.inputs import RowError, read_rows
    from interviewer.batch.paths import check_outputs
    from interviewer.batch.report import safe_results
    from interviewer.batch.resolve import Resolver
    from interviewer.batch.runner import (
        OfflinePool,
        distinct_rubrics,
        interrupted,
        plan,
        run,
    )
    from interviewer.cli import grade_batch
    from interviewer.config import load_settings
    from interviewer.judge import make_judge, offline_judge
    from interviewer.judge.guards import rubric_terms
    from interviewer.judge.llm import JudgeUnavailable, LLMJudge
    from interviewer.llm.retry import RateGate

    settings = load_settings(
        judge=judge or None, openai_base_url=base_url, api_key_env=api_key_env, bank_dir=bank_dir
    )
    spec = JudgeSpec.parse(settings.judge)
    batch_api = batch_api or resume
    if batch_api:
        grade_batch.check_batch_options(spec.provider, no_cache)
    out = out or file.with_name(file.stem + ".results.jsonl")
    outputs = {"--out": out, "--csv": csv_out, "--report": report}
    check_outputs([file], {k: v for k, v in outputs.items() if v is not None})
    rows = read_rows(file)
    for row in rows:
        if isinstance(row, RowError) and row.repeats is not None:
            err.print(f"warning: {row.error}", markup=False)
    bank = load_bank(settings.bank_dir)
    encoder = offline_judge().encoder
    offline = spec.provider == "offline"
    if offline:
        judge_: Judge | str = offline_judge()
    elif dry_run:
        judge_ = _judge_or_spec(spec, settings)
    else:
        judge_ = make_judge(spec, settings, gate=RateGate())
    jobs, errors = plan(rows, Resolver(bank, encoder), judge_)
    cache = None if no_cache else open_grade_cache(settings)
    cached = sum(1 for j in jobs if cache and all(cache.get(t.key) is not None for t in j.targets))
    if cache is not None and not batch_api and not offline and not dry_run:
        grade_batch.check_no_pending(cache, jobs)

    if dry_run:
        _dry_run(rows, jobs, errors, cached, spec)
        return

    terms = [t for r in bank.rubrics.values() for t in rubric_terms(r)]  # for the workers
    workers = concurrency or (None if offline else 8)
    pool = None
    llm: LLMJudge | None = None
    if offline:
        pool = OfflinePool(terms, workers, rubrics=distinct_rubrics(jobs))
        grade = pool.grade
        in_flight = pool.concurrency  # whole chunks queued for every worker
    else:
        assert not isinstance(judge_, str)
        if isinstance(judge_, LLMJudge):
            llm = judge_
            # The guards' CPU work goes to a worker process, so that it does not hold up
            # the requests in flight.
            cores = os.cpu_count() or 1
            pool = OfflinePool(terms, max(1, cores - 1), rubrics=distinct_rubrics(jobs))
            judge_.guard_runner = pool.guards
            if judge_.cascade is not None:  # the offline first pass in the pool too
                judge_.offline_runner = pool.grade
        grade = judge_.agrade
        in_flight = workers or 1

    stop, abort = asyncio.Event(), asyncio.Event()
    progress = Progress(
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )

    batch_run: BatchRun | None = None
    stopped = grade_batch.Stopped(stop, abort)

    async def main() -> dict[int, BatchResult]:
        nonlocal batch_run
        try:
            if batch_api:
                assert llm is not None and cache is not None
                options = Options(
                    poll=batch_poll, wait=batch_wait, batch_size=batch_size, max_poll=60.0
                )
                batch_run = await grade_batch.run_batch_api(jobs, llm, cache, options, stopped, err)
                return batch_run.results if batch_run else {}
            if llm is not None and cached < len(jobs):
                await preflight(llm)
            return await grade_all()
        finally:
            if llm is not None:
                await llm.aclose()

    async def preflight(llm: LLMJudge) -> None:
        # One cheap request before any row: a wrong key, model or URL is an error now,
        # not a file graded offline.
        try:
            await llm.preflight()
        except JudgeUnavailable as exc:
            if not allow_fallback:
                raise
            err.print(f"warning: {exc.message}; grading anyway (--allow-fallback)", markup=False)

    async def grade_all() -> dict[int, BatchResult]:
        loop = asyncio.get_running_loop()

        def interrupted() -> None:
            if stop.is_set():
                abort.set()  # a second Ctrl+C: stop waiting for the rows in flight
            else:
                stop.set()
                err.print("stopping: finishing the rows in flight (Ctrl+C again to stop now)")

        loop.add_signal_handler(signal.SIGINT, interrupted)
        task = progress.add_task("grade", total=len(jobs), rate="")
        started = loop.time()

        def done(_: BatchResult) -> None:
            finished = progress.tasks[0].completed + 1
            elapsed = max(1e-6, loop.time() - started)
            progress.update(task, completed=finished, rate=f"{finished / elapsed:.1f}/s")

        with progress:
            results = await run(
                jobs,
                grade,
                cache=cache,
                concurrency=in_flight,
                on_done=done,
                stop=stop,
                abort=abort,
            )
        return results

    unwritten = {k: v for k, v in outputs.items() if v is not None}
    try:
        graded = asyncio.run(main())
    finally:
        with _ctrl_c_before_written(unwritten, cached=cache is not None):
            if pool:
                pool.close(now=abort.is_set())
            if cache:
                cache.close()
    with _ctrl_c_before_written(unwritten, cached=cache is not None):
        merged = {**errors, **graded}
        for job in jobs:  # stopped at once (a second Ctrl+C) with --batch-api
            if job.index not in merged:
                merged[job.index] = interrupted(job)
        results = safe_results([merged[i] for i in range(len(rows))])
        _write_outputs(results, file.name, unwritten)
    failed = [r for r in results if r.error]
    from_cache = sum(1 for r in results if r.cached)
    fell_back = sum(1 for r in results if "judge_fallback" in r.flags)
    fallback_note = f", {fell_back} graded offline after {spec} failed" if fell_back else ""
    err.print(
        f"{len(results)} rows: {len(results) - len(failed)} graded "
        f"({from_cache} from cache){fallback_note}, {len(failed)} failed → {out}"
    )
    if llm is not None and llm.cascade is not None and not batch_api:  # (it says its own)
        asked = llm.sent + llm.kept
        err.print(
            f"cascade: {llm.sent} of {asked} answers graded went to {llm.provider.spec} "
            f"({llm.sent / max(1, asked):.0%}); the rest kept the offline grade "
            f"(uncertain band {llm.cascade})"
        )
    list_errors([r.error or "" for r in failed], str(out))
    if batch_api and grade_batch.unfinished(batch_run, results):
        if stop.is_set():
            err.print("interrupted: the rows not collected are marked.")
        grade_batch.say_how_to_resume(batch_run, err)
        raise typer.Exit(EXIT_INTERRUPTED if stop.is_set() else EXIT_BATCH_RUNNING)
    if stop.is_set():
        done = "were finished" if not abort.is_set() else "were abandoned (not graded)"
        err.print(f"interrupted: the rows in flight {done}; run again to grade the rest.")
        raise typer.Exit(EXIT_INTERRUPTED)
    if failed:
        raise typer.Exit(EXIT_ROWS_FAILED)
    if fell_back and not allow_fallback:
        err.print(
            f"{fell_back} rows were graded by the offline judge because {spec} failed on them "
            "(flag judge_fallback; not cached, so a re-run asks the model again). "
            "Pass --allow-fallback to accept them.",
            markup=False,
        )
        raise typer.Exit(EXIT_FALLBACK)
    raise typer.Exit(EXIT_GRADED)


def _write_outputs(results: list[BatchResult], source: str, unwritten: dict[str, Path]) -> None:
    """Write each output in `unwritten` (option: path), dropping it from there once written.

    Each is written whole or not at all; one that cannot be written (disk full...) exits 3
    and keeps its previous file, and every grade is cached.
    """
    from interviewer.batch.report import write_csv, write_jsonl, write_report

    writers: dict[str, Callable[[list[BatchResult], Path], None]] = {
        "--out": write_jsonl,
        "--csv": write_csv,
        "--report": lambda results, path: write_report(results, source, path),
    }
    for option, path in list(unwritten.items()):
        try:
            writers[option](results, path)
        except OSError as exc:
            err.print(
                f"error: {option} {path}: could not write ({exc.strerror or exc}). Every grade "
                "is cached: fix that and run the same command again.",
                markup=False,
            )
            raise typer.Exit(EXIT_NOT_WRITTEN) from None
        del unwritten[option]


@contextmanager
def _ctrl_c_before_written(unwritten: dict[str, Path], cached: bool) -> Iterator[None]:
    """A Ctrl+C once grading has ended: name the outputs not written and say to run again.

    The grading loop's Ctrl+C handler ends with the loop, so a second Ctrl+C while the
    workers shut down or the outputs are written is a KeyboardInterrupt here. Left to
    `handles_errors` it said only "interrupted", and an earlier run's files, left as they
    were, looked like this run's.
    """
    try:
        yield
    except KeyboardInterrupt:
        if not unwritten:  # every output was written
            raise
        names = ", ".join(f"{option} {path}" for option, path in unwritten.items())
        rerun = "Every grade is cached: run" if cached else "Run"  # (not with --no-cache)
        err.print(
            f"interrupted before the results were written: {names} not written (an earlier "
            f"run's file there is unchanged). {rerun} the same command again to write them.",
            markup=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _judge_or_spec(spec: JudgeSpec, settings: Settings) -> Judge | str:
    """For --dry-run: the judge if it can be made (for its fingerprint), else its spec."""
    from interviewer.judge import make_judge

    try:
        return make_judge(spec, settings)
    except ConfigError:
        return str(spec)


def _dry_run(
    rows: list[Parsed],
    jobs: list[Job],
    errors: dict[int, BatchResult],
    cached: int,
    spec: JudgeSpec,
) -> None:
    from interviewer.judge.prompts import system_prompt

    questions = {j.question.id for j in jobs}
    err.print(
        f"{len(rows)} rows: {len(jobs)} gradable on {len(questions)} questions, "
        f"{len(errors)} with errors, {cached} already graded (cached)"
    )
    if spec.provider != "offline":
        calls = len(jobs) - cached
        if spec.cascade:  # only the uncertain share goes to the model
            from interviewer.judge.cascade import fitted_band

            band = fitted_band()
            share = float(band.meta.get("figures", {}).get("held", {}).get("sent_share", 1.0))
            calls = round(calls * share)
            err.print(
                f"cascade: offline scores in {band} go to the model: about {share:.0%} of "
                "answers on the held calibration half"
            )
        tokens_in = sum(
            _tokens(system_prompt(j.question, j.rubric)) + _tokens(j.answer) for j in jobs
        )
        err.print(
            f"{spec}: about {calls} calls, ~{tokens_in:,} input tokens "
            f"(~{len(questions)} distinct prompts that providers can cache), "
            f"~{calls * 350:,} output tokens"
        )
    list_errors([r.error or "" for r in errors.values()], "the results of a run without --dry-run")
    sys.stdout.flush()


LISTED_ERRORS = 10  # error rows printed in a summary; the rest are counted


def list_errors(errors: list[str], where: str) -> None:
    """The first error rows' messages, and how many more there are and where to read them."""
    for error in errors[:LISTED_ERRORS]:
        err.print(f"  {error}", markup=False)
    if len(errors) > LISTED_ERRORS:
        err.print(f"  … and {len(errors) - LISTED_ERRORS} more (every one is in {where})")


def _tokens(text: str) -> int:
    """A rough count: a CJK character is about a token; other text about 4 characters one."""
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return cjk + (len(text) - cjk) // 4
