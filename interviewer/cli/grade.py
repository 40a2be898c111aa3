"""`interviewer grade FILE`: grade many written answers with one judge."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
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
from interviewer.config import JudgeSpec

if TYPE_CHECKING:
    # Only for type hints: the batch modules import the judges (numpy and more), which
    # the other commands, and the TUI's first screen, do not need.
    from interviewer.batch.inputs import Parsed
    from interviewer.batch.runner import BatchResult, Job

err = Console(stderr=True, highlight=False, soft_wrap=True)


@handles_errors
def grade_command(
    file: Annotated[Path, typer.Argument(help="Answers: .jsonl, .csv or .md.", exists=False)],
    out: Annotated[
        Path | None, typer.Option(help="Results JSONL (default: FILE.results.jsonl).")
    ] = None,
    judge: Annotated[str, typer.Option(help="offline, openai:M, anthropic:M, compatible:M")] = "",
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
            help="Offline: worker processes (default: one per core). LLM judges: requests "
            "in flight (default 8).",
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Grade every row again.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Count and estimate; grade nothing.")] = False,
    bank_dir: Annotated[Path | None, typer.Option("--bank", help="Bank folder.")] = None,
) -> None:
    """Grade a file of written answers and write one result per row, in input order.

    Each row names a bank question (`question_id`), gives question text to match to the
    bank (`question`), or carries its own rubric (`key_points` and/or `reference`).
    A row that cannot be graded becomes an error row; the others are graded anyway.
    Exit 0 when every row was graded, 1 when any failed, 2 when the file is unusable or
    the judge cannot be used (checked with one cheap request before any row), 3 when an
    LLM judge failed on some rows and they were graded offline (unless --allow-fallback).
    A re-run skips rows already graded (cached by question, rubric, answer and judge);
    offline fallback grades are never cached.

    Example: interviewer grade examples/answers.jsonl --report report.md
    """
    from interviewer.bank.loader import load_bank
    from interviewer.batch.cache import GradeCache
    from interviewer.batch.inputs import read_rows
    from interviewer.batch.report import html_report, markdown_report, write_csv, write_jsonl
    from interviewer.batch.resolve import Resolver
    from interviewer.batch.runner import OfflinePool, distinct_rubrics, plan, run
    from interviewer.config import load_settings
    from interviewer.judge import cache_name, make_judge, offline_judge
    from interviewer.judge.guards import rubric_terms
    from interviewer.judge.llm import JudgeUnavailable, LLMJudge
    from interviewer.llm.retry import RateGate

    settings = load_settings(
        judge=judge or None, openai_base_url=base_url, api_key_env=api_key_env, bank_dir=bank_dir
    )
    spec = JudgeSpec.parse(settings.judge)
    rows = read_rows(file)
    bank = load_bank(settings.bank_dir)
    encoder = offline_judge().encoder
    jobs, errors = plan(rows, Resolver(bank, encoder), cache_name(spec, settings))
    cache = None if no_cache else GradeCache(settings.data_dir / "grade-cache.sqlite")
    cached = sum(1 for j in jobs if cache and cache.get(j.key) is not None)

    if dry_run:
        _dry_run(rows, jobs, errors, cached, spec)
        return

    out = out or file.with_name(file.stem + ".results.jsonl")
    offline = spec.provider == "offline"
    terms = [t for r in bank.rubrics.values() for t in rubric_terms(r)]  # for the workers
    workers = concurrency or (None if offline else 8)
    pool = None
    llm: LLMJudge | None = None
    if offline:
        pool = OfflinePool(terms, workers, rubrics=distinct_rubrics(jobs))
        grade = pool.grade
        in_flight = pool.concurrency  # whole chunks queued for every worker
    else:
        judge_ = make_judge(spec, settings, gate=RateGate())
        if isinstance(judge_, LLMJudge):
            llm = judge_
            # The guards' CPU work goes to a worker process, so that it does not hold up
            # the requests in flight.
            cores = os.cpu_count() or 1
            pool = OfflinePool(terms, max(1, cores - 1), rubrics=distinct_rubrics(jobs))
            judge_.guard_runner = pool.guards
        grade = judge_.agrade
        in_flight = workers or 1

    stop = asyncio.Event()
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

    async def main() -> dict[int, BatchResult]:
        try:
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
        loop.add_signal_handler(signal.SIGINT, stop.set)
        task = progress.add_task("grade", total=len(jobs), rate="")
        started = loop.time()

        def done(_: BatchResult) -> None:
            finished = progress.tasks[0].completed + 1
            elapsed = max(1e-6, loop.time() - started)
            progress.update(task, completed=finished, rate=f"{finished / elapsed:.1f}/s")

        with progress:
            results = await run(
                jobs, grade, cache=cache, concurrency=in_flight, on_done=done, stop=stop
            )
        return results

    try:
        graded = asyncio.run(main())
    finally:
        if pool:
            pool.close()
        if cache:
            cache.close()
    merged = {**errors, **graded}
    results = [merged[i] for i in range(len(rows))]
    write_jsonl(results, out)
    if csv_out:
        write_csv(results, csv_out)
    if report:
        html = report.suffix.lower() in (".html", ".htm")
        text = html_report(results, file.name) if html else markdown_report(results, file.name)
        report.write_text(text, encoding="utf-8")
    failed = [r for r in results if r.error]
    from_cache = sum(1 for r in results if r.cached)
    fell_back = sum(1 for r in results if "judge_fallback" in r.flags)
    fallback_note = f", {fell_back} graded offline after {spec} failed" if fell_back else ""
    err.print(
        f"{len(results)} rows: {len(results) - len(failed)} graded "
        f"({from_cache} from cache){fallback_note}, {len(failed)} failed → {out}"
    )
    for r in failed[:10]:
        err.print(f"  {r.error}", markup=False)
    if stop.is_set():
        err.print("interrupted: the rows in flight were finished; run again to grade the rest.")
        raise typer.Exit(130)
    if failed:
        raise typer.Exit(1)
    if fell_back and not allow_fallback:
        err.print(
            f"{fell_back} rows were graded by the offline judge because {spec} failed on them "
            "(flag judge_fallback; not cached, so a re-run asks the model again). "
            "Pass --allow-fallback to accept them.",
            markup=False,
        )
        raise typer.Exit(3)
    raise typer.Exit(0)


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
        tokens_in = sum(
            _tokens(system_prompt(j.question, j.rubric)) + _tokens(j.answer) for j in jobs
        )
        err.print(
            f"{spec}: about {calls} calls, ~{tokens_in:,} input tokens "
            f"(~{len(questions)} distinct prompts that providers can cache), "
            f"~{calls * 350:,} output tokens"
        )
    for r in list(errors.values())[:10]:
        err.print(f"  {r.error}", markup=False)
    sys.stdout.flush()


def _tokens(text: str) -> int:
    """A rough count: a CJK character is about a token; other text about 4 characters one."""
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return cjk + (len(text) - cjk) // 4
