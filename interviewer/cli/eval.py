"""`interviewer eval`: measure a judge against the calibration set's human grades."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table
from rich.text import Text

from interviewer.cli.common import ApiKeyEnvOpt, console, err_console, handles_errors

if TYPE_CHECKING:
    from interviewer.judge.evaluate import EvalReport
    from interviewer.judge.external import ExternalRow, SetReport

HalfOpt = Annotated[
    str,
    typer.Option(
        "--half",
        help="tune: the half judges may be tuned on; held: the held-back half; all: both.",
    ),
]


@handles_errors
def eval_command(
    judge: Annotated[
        str,
        typer.Option(
            help="offline, openai:MODEL, anthropic:MODEL, compatible:MODEL, cascade:PROVIDER:MODEL"
        ),
    ] = "offline",
    set_path: Annotated[
        Path | None,
        typer.Option(
            "--set", help="Calibration file or folder (default: the bank's calibration/)."
        ),
    ] = None,
    half: HalfOpt = "all",
    repeats: Annotated[
        int, typer.Option(help="Grade each answer this many times (consistency).")
    ] = 3,
    concurrency: Annotated[int, typer.Option(help="Answers graded at once.")] = 4,
    base_url: Annotated[str | None, typer.Option(help="Base URL for compatible:MODEL.")] = None,
    api_key_env: ApiKeyEnvOpt = None,
    bank_dir: Annotated[Path | None, typer.Option("--bank", help="Bank folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON report here.")] = None,
    details: Annotated[
        bool, typer.Option(help="List every answer's human and judge score.")
    ] = False,
    from_reviews: Annotated[
        bool,
        typer.Option(
            "--from-reviews",
            help="Instead: agreement of each judge with reviewers' overrides in transcripts.",
        ),
    ] = False,
    external: Annotated[
        Path | None,
        typer.Option(
            "--external",
            help="Instead: grade real graded answers (a JSONL file, or a folder of them) through "
            "the batch path and report each set beside the naive baseline.",
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            help="With --external: only rows whose `split` is this (e.g. eval); a file with "
            "no such row is refused, or skipped in a folder."
        ),
    ] = None,
    reviews_dir: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Transcripts folder for --from-reviews (default: the configured store, the "
            "database when database_url is set).",
        ),
    ] = None,
) -> None:
    """Measure a judge on the calibration set: Pearson, Spearman, MAE, weighted kappa,
    verdict accuracy, adversarial pass rate and consistency.

    With --from-reviews, compare instead every judge that graded a saved interview (live
    or in a regrade) with the human reviewers' overrides: agreement per judge.

    It also prints the cascade's band (offline scores where the offline judge is often
    wrong, fitted on the tuning half by python -m benchmarks.fit_cascade): for the offline
    judge, the share of this set it would send to a model and the error of the grades it
    keeps; for --judge cascade:PROVIDER:MODEL, the share it sent.

    Example: interviewer eval --judge offline --half held

    Example: interviewer eval --from-reviews --dir ./transcripts

    With --external, grade sets of real graded answers (JSONL: question, reference or
    references, answer, and a label or a score) the way `interviewer grade` grades ad-hoc
    rows. A label is one of correct, incorrect, contradictory,
    partially_correct_incomplete, irrelevant, non_domain (SemEval-2013's; any case, and
    only correct counts as correct); a score is a number on the set's own scale. Report per
    set: AUC and macro-F1 for labels, Pearson, Spearman and MAE for scores,
    the share of correct answers a guard zeroed, and the naive word-overlap baseline.

    Example: interviewer eval --external ../shared/asag/le-zh.jsonl --split eval
    """
    if from_reviews:
        _from_reviews(reviews_dir, as_json, out)
        return
    if external is not None:
        _external(external, split, judge, as_json, out)
        return
    import asyncio

    from interviewer.bank.calibration import load_calibration
    from interviewer.bank.loader import load_bank
    from interviewer.config import load_settings
    from interviewer.errors import InterviewerError
    from interviewer.judge import make_judge
    from interviewer.judge.evaluate import evaluate
    from interviewer.judge.llm import LLMJudge
    from interviewer.judge.offline import OfflineJudge

    if half not in ("tune", "held", "all"):
        raise InterviewerError(f"--half must be tune, held or all, not {half!r}")
    settings = load_settings(openai_base_url=base_url, api_key_env=api_key_env, bank_dir=bank_dir)
    bank = load_bank(settings.bank_dir)
    items = load_calibration(set_path or bank.root / "calibration", bank)
    grader = make_judge(judge, settings)
    if isinstance(grader, OfflineJudge):
        grader.learn_terms(list(bank.rubrics.values()))

    async def grade(qid: str, text: str):  # type: ignore[no-untyped-def]
        return await grader.agrade(bank.question(qid), bank.rubric(qid), text)

    async def measure(progress: Progress, task: TaskID) -> EvalReport:
        if isinstance(grader, LLMJudge):
            await grader.preflight()  # a wrong key or model: an error, not a run graded offline
        try:
            return await evaluate(
                bank,
                items,
                grade,
                grader.spec,
                half=half,  # type: ignore[arg-type]
                repeats=repeats,
                concurrency=concurrency,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        finally:
            if isinstance(grader, LLMJudge):
                await grader.aclose()

    with Progress(console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("grading", total=None)
        report = asyncio.run(measure(progress, task))
    _cascade(report, grader)
    if out:
        out.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    if as_json:
        console.print_json(report.model_dump_json())
        return
    title = (
        f"{report.judge} on {report.half}: {report.answers} answers, {report.questions} questions"
    )
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("Pearson", f"{report.pearson:.3f}"),
        ("Pearson of the naive baseline", f"{report.naive_pearson:.3f}"),
        ("Spearman", f"{report.spearman:.3f}"),
        ("MAE", f"{report.mae:.1f}"),
        ("QWK (5 bands)", f"{report.qwk:.3f}"),
        ("verdict accuracy", f"{report.verdict_accuracy:.1%}"),
        ("misconception recall", f"{report.misconception_recall:.1%}"),
        ("misconception precision", f"{report.misconception_precision:.1%}"),
        (
            f"adversarial <= 20 ({report.adversarial_answers})",
            f"{report.adversarial_pass_rate:.1%}",
        ),
        ("consistency: max spread", f"{report.consistency_max_spread:.1f}"),
        ("fallbacks to offline", str(report.fallbacks)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for kind, mae in report.mae_by_kind.items():
        table.add_row(f"MAE on {kind}", f"{mae:.1f}")
    console.print(table)
    _print_cascade(report)
    if details:
        detail = Table("answer", "kind", "human", "judge", "flags")
        for r in sorted(report.results, key=lambda r: -abs(r.human - r.score)):
            detail.add_row(r.answer_id, r.kind, f"{r.human:g}", f"{r.score:g}", ",".join(r.flags))
        console.print(detail)


def _cascade(report: EvalReport, grader: object) -> None:
    """The cascade's band on this set: for the offline judge, what it would send to a model
    and how far the grades it keeps are; for a cascade judge, what it sent."""
    from interviewer.judge.cascade import figures, fitted_band
    from interviewer.judge.llm import LLMJudge
    from interviewer.judge.offline import OfflineJudge

    band = fitted_band()
    report.cascade_band = str(band)
    if isinstance(grader, OfflineJudge):
        report.cascade = figures(band, [(r.score, r.human) for r in report.results])
    elif isinstance(grader, LLMJudge) and grader.cascade is not None:
        report.cascade_sent = grader.sent


def _print_cascade(report: EvalReport) -> None:
    from interviewer.judge.cascade import fitted_band

    band, tolerance = report.cascade_band, fitted_band().tolerance
    if report.cascade is not None:
        c = report.cascade
        console.print(
            f"cascade band {band} (fitted on the tuning half): {c.sent_share:.0%} of these "
            f"answers would go to the model; of those kept offline, {c.kept_bad_share:.1%} "
            f"are off the human grade by more than {tolerance:g} points (MAE "
            f"{c.kept_mae:.1f}), against {c.offline_bad_share:.1%} (MAE {c.offline_mae:.1f}) "
            "for the offline judge alone.",
            markup=False,
        )
    elif report.cascade_sent is not None:
        graded = report.answers * max(1, len(report.results[0].scores) if report.results else 1)
        console.print(
            f"cascade band {band}: {report.cascade_sent} of {graded} grades went to the model "
            f"({report.cascade_sent / max(1, graded):.0%}); the rest kept the offline grade.",
            markup=False,
        )


def _from_reviews(folder: Path | None, as_json: bool, out: Path | None) -> None:
    """Agreement of each judge with the reviewers, over every overridden key point in the
    folder, or with none given in the configured store (the database's when database_url
    is set)."""
    from interviewer.cli.review import existing_folder, store_of
    from interviewer.transcript.review import agreement

    store = store_of(existing_folder(folder))
    where = store.label
    report = agreement(store)
    if out:
        out.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    if as_json:
        console.print_json(report.model_dump_json())
        return
    for problem in report.skipped:
        console.print(f"warning: skipped {problem}", markup=False, style="yellow")
    if not report.judges:
        console.print(
            f"No overridden key points in {where}: add some with `interviewer review override`.",
            markup=False,
        )
        return
    table = Table(
        title=(
            f"Judges against reviewers: {report.key_points} key point(s) "
            f"in {report.interviews} interview(s)"
        )
    )
    table.add_column("judge")
    table.add_column("agreed", justify="right")
    table.add_column("compared", justify="right")
    table.add_column("agreement", justify="right")
    for j in report.judges:
        table.add_row(j.judge, str(j.agreed), str(j.compared), f"{j.rate:.1%}")
    console.print(table)


def _advance(progress: Progress, task: TaskID, done: int, total: int) -> None:
    progress.update(task, completed=done, total=total)


def _external(path: Path, split: str | None, judge: str, as_json: bool, out: Path | None) -> None:
    import json

    from interviewer.errors import InterviewerError
    from interviewer.judge.external import measure, offline_grader

    if judge != "offline":
        raise InterviewerError("--external measures the offline judge (use --judge offline)")
    sets = _read_sets(path, split)
    grade = offline_grader()
    reports = []
    for file, rows in sets:
        with Progress(console=console, transient=True, disable=as_json) as progress:
            task = progress.add_task(file.name, total=len(rows))
            report = measure(file.stem, rows, grade, partial(_advance, progress, task))
        reports.append(report)
        if not as_json:
            _print_set(report)
    payload = json.dumps([r.model_dump() for r in reports], indent=2, ensure_ascii=False)
    if out:
        out.write_text(payload, encoding="utf-8")
    if as_json:
        console.print_json(payload)


def _read_sets(path: Path, split: str | None) -> list[tuple[Path, list[ExternalRow]]]:
    """Every set read before any is graded. In a folder a file with no answer rows, or none
    in `split`, is skipped with a note (a folder may mix sets with and without splits), but
    a folder where nothing is left is an error; a set that cannot be read is an error (each
    one named), and nothing is graded."""
    from interviewer.errors import InterviewerError
    from interviewer.judge.external import ROW_HINT, NotASetError, read_set, set_files

    files = set_files(path)
    if not path.is_dir():
        return [(files[0], read_set(files[0], split))]
    sets, broken = [], 0
    for file in files:
        try:
            sets.append((file, read_set(file, split)))
        except NotASetError as e:
            console.print(f"skipped {file.name}: {e.message}", markup=False, style="yellow")
        except InterviewerError as e:
            broken += 1
            err_console.print(Text("error: ", style="bold red") + Text(e.message))
            if e.hint:
                err_console.print(e.hint, markup=False)
    if broken:
        raise InterviewerError(
            f"{path}: {broken} of {len(files)} files cannot be measured (above); "
            "nothing was graded",
            hint="Fix them, or move them out of the folder, and run again.",
        )
    if not sets and split is None:
        raise InterviewerError(f"{path}: no file in the folder has answer rows", ROW_HINT)
    if not sets:
        raise InterviewerError(
            f"{path}: no file in the folder has rows in split {split!r} (skipped above)",
            hint="Give --split one of the splits named above, or leave it out.",
        )
    return sets


def _print_set(report: SetReport) -> None:
    table = Table(title=f"{report.name}: {report.answers} answers ({report.kind})")
    table.add_column("metric")
    table.add_column("judge", justify="right")
    table.add_column("naive baseline", justify="right")
    for key in report.judge:
        table.add_row(key, _figure(report, "judge", key), _figure(report, "naive", key))
    share = "n/a" if report.zeroed_share is None else f"{report.zeroed_share:.2%}"
    table.add_row(
        "correct answers zeroed by a guard",
        f"{report.correct_zeroed_by_guard}/{report.correct_answers} ({share})",
        "",
    )
    flags = ", ".join(f"{k} {v}" for k, v in sorted(report.flagged.items())) or "none"
    table.add_row("flags", flags, "")
    console.print(table)


def _figure(report: SetReport, side: str, key: str) -> str:
    """A figure to 3 places, or "n/a" and why the set cannot give it: a 0.000 would read as
    a judge that measured no better than chance."""
    value = (report.judge if side == "judge" else report.naive).get(key)
    if value is None:
        return f"n/a ({report.undefined.get(side, {}).get(key, 'undefined on this set')})"
    return f"{value:.3f}"
