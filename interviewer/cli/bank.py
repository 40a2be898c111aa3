"""`interviewer bank ...`: validate, list, show and count the question bank."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from interviewer.bank.calibration import load_calibration
from interviewer.bank.errors import BankError, Problem
from interviewer.bank.lint import DEFAULT_MAX_SHARE, RULES, LintReport, lint_bank
from interviewer.bank.loader import (
    default_bank_dir,
    load_bank,
    load_question_file,
    load_rubric_file,
)
from interviewer.bank.schema import CalibrationFile, QuestionFile, Rubric
from interviewer.bank.stats import bank_stats
from interviewer.cli.common import console, err_console, handles_errors

app = typer.Typer(
    help="Inspect and check the question bank (questions/*.yaml, rubrics/*.yaml).",
    no_args_is_help=True,
)

BankDir = Annotated[
    Path | None,
    typer.Option("--bank", help="Bank folder (with questions/ and rubrics/). Default: built-in."),
]


@app.command()
@handles_errors
def validate(
    path: Annotated[
        Path | None,
        typer.Argument(help="A bank folder, or one question/rubric/calibration YAML file."),
    ] = None,
) -> None:
    """Check the bank and print every problem as `path:line: message`.

    Exit 0 when clean, 2 with problems.

    Example: interviewer bank validate ./my-bank
    """
    root = path or default_bank_dir()
    if root.is_file():
        _validate_file(root)
        console.print(f"{root}: ok")
        return
    bank = load_bank(root)
    calibration = root / "calibration"
    n_cal = 0
    if calibration.is_dir():
        n_cal = sum(len(item.answers) for item in load_calibration(calibration, bank))
    console.print(
        f"{bank.root}: ok — {len(bank.questions)} questions, {len(bank.rubrics)} rubrics, "
        f"{n_cal} calibration answers"
    )


def _validate_file(path: Path) -> None:
    kind = path.resolve().parent.name
    if kind == "questions":
        load_question_file(path)
    elif kind == "rubrics":
        load_rubric_file(path)
    elif kind == "calibration":
        from interviewer.bank.yamlmap import read_yaml, validate

        validate(CalibrationFile, read_yaml(path, str(path)) or [], str(path))
    else:
        raise BankError(
            [
                Problem(
                    str(path),
                    0,
                    "cannot tell the file's kind: keep it in questions/, rubrics/ or calibration/",
                )
            ]
        )


@app.command("list")
@handles_errors
def list_(
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
    lang: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    bank_dir: BankDir = None,
) -> None:
    """List questions: id, topic, difficulty, prompt.

    Example: interviewer bank list --topic rag
    """
    bank = load_bank(bank_dir)
    table = Table("id", "topic", "diff", "prompt", show_lines=False)
    questions = bank.by_topic(topic)
    if not questions:
        err_console.print(f"no questions on topic {topic!r}; topics: {', '.join(bank.topics())}")
        raise typer.Exit(1)
    for q in questions:
        table.add_row(
            q.id, q.topic, str(q.difficulty), q.prompt.zh if lang == "zh" else q.prompt.en
        )
    console.print(table)


@app.command()
@handles_errors
def show(
    question_id: Annotated[str, typer.Argument(help="A question id from `bank list`.")],
    bank_dir: BankDir = None,
) -> None:
    """Show one question with its rubric: key points, misconceptions, reference answer.

    Example: interviewer bank show lora-principle
    """
    bank = load_bank(bank_dir)
    q = bank.question(question_id)
    r = bank.rubric(question_id)
    where = bank.where[q.id]
    console.print(f"[bold]{q.id}[/]  topic={q.topic}  difficulty={q.difficulty}  kind={q.kind}")
    console.print(f"[dim]{where.path}:{where.line}[/]")
    console.print(f"\n[bold]Q[/] {q.prompt.zh}\n  {q.prompt.en}")
    console.print("\n[bold]Key points[/] (weight)")
    for kp in r.key_points:
        console.print(
            f"  [{kp.weight:g}] {kp.id}: {kp.text.zh}\n        {kp.text.en}", markup=False
        )
    if r.misconceptions:
        console.print("\n[bold]Misconceptions[/] (penalty)")
        for mc in r.misconceptions:
            console.print(f"  [-{mc.penalty:g}] {mc.id}: {mc.text.zh}", markup=False)
    console.print("\n[bold]Follow-ups[/]")
    for fu in q.follow_ups:
        console.print(f"  → {fu.zh}  (probes {fu.probes})", markup=False)
    console.print("\n[bold]Reference answer[/]")
    console.print(r.reference_answer.zh.strip(), markup=False)
    console.print("\n[bold]Sources[/]")
    for s in r.sources:
        console.print(f"  - {s}", markup=False)


@app.command()
@handles_errors
def stats(
    bank_dir: BankDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Count questions per topic and difficulty, key points and the weight share on asked
    points, inventory coverage and calibration answers.

    Example: interviewer bank stats --json
    """
    data = bank_stats(load_bank(bank_dir))
    if as_json:
        console.print_json(data.model_dump_json())
        return
    table = Table("topic", "d1", "d2", "d3", "total", title="Questions")
    for topic, row in data.per_topic.items():
        table.add_row(topic, *(str(row.get(d, 0)) for d in (1, 2, 3)), str(sum(row.values())))
    table.add_row(
        "[bold]all[/]",
        *(str(data.per_difficulty.get(d, 0)) for d in (1, 2, 3)),
        f"[bold]{data.questions}[/]",
    )
    console.print(table)
    kps = data.key_points
    console.print(
        f"Key points: {kps.total} ({kps.asked} asked, {kps.total - kps.asked} bonus; "
        f"{kps.titled} with a title, {kps.with_partial_if} with partial_if)"
    )
    console.print(
        f"Asked weight share: mean {kps.asked_share_mean:.0%}; "
        f"{len(kps.under_min_asked)} rubrics under {kps.min_asked_share:.0%}"
    )
    if kps.under_min_asked:
        console.print("  under: " + ", ".join(kps.under_min_asked), markup=False)
    inv = data.inventory
    console.print(f"Inventory ids covered: {inv.covered}/{inv.total}")
    if inv.missing:
        console.print("  missing: " + ", ".join(inv.missing), markup=False)
    cal = data.calibration
    console.print(
        f"Calibration: {cal.answers} answers on {cal.questions} questions "
        f"(tune {cal.tune_questions}, held {cal.held_questions})"
    )
    for kind, n in cal.per_kind.items():
        console.print(f"  {kind}: {n}")


@app.command()
@handles_errors
def lint(
    bank_dir: BankDir = None,
    max_share: Annotated[
        float,
        typer.Option(
            "--max-share",
            min=0.0,
            max=1.0,
            help="An evidence term found in more than this share of the reference answers "
            "is generic.",
        ),
    ] = DEFAULT_MAX_SHARE,
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", help=f"Only this rule (repeatable): {', '.join(RULES)}."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON findings.")] = False,
) -> None:
    """Check that rubric evidence discriminates and weights follow what is asked.

    Errors: short-term (one CJK character, a one- or two-letter word), generic-term (in more
    than --max-share of the reference answers, or an everyday word), misconception-in-reference
    (a misconception's phrase inside its own reference answer or key point), asked-share
    (asked key points under 70% of the weight). Warnings: misconception-in-other-reference
    (the phrase is in another question's reference answer), missing-title, missing-partial-if.

    Exit 0 without errors (warnings too with --strict), 1 otherwise.

    Example: interviewer bank lint --bank ./my-bank --rule generic-term --max-share 0.2
    """
    unknown = sorted(set(rule or []) - set(RULES))
    if unknown:
        raise typer.BadParameter(
            f"unknown rule {', '.join(unknown)}; rules: {', '.join(RULES)}", param_hint="--rule"
        )
    chosen = [r for r in RULES if r in rule] if rule else RULES
    report = lint_bank(load_bank(bank_dir), max_share=max_share, rules=chosen)
    if as_json:
        console.print_json(report.model_dump_json())
    else:
        _print_lint(report)
    if report.errors or (strict and report.warnings):
        raise typer.Exit(1)


def _print_lint(report: LintReport) -> None:
    current = None
    for f in report.findings:
        if f.file != current:
            if current is not None:
                console.print()
            console.print(f"[bold]{f.file}[/]")
            current = f.file
        style = "red" if f.severity == "error" else "yellow"
        item = f" {f.item}" if f.item else ""
        console.print(
            f"  {f.line:>4}: [{style}]{f.severity:<7}[/] "
            + escape(f"[{f.rule}]{item}: {f.message}")
        )
    rules = Counter(f.rule for f in report.findings)
    summary = ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items()))
    console.print(
        f"\n{report.errors} errors, {report.warnings} warnings"
        + (f" ({summary})" if summary else "")
        + f"; generic share limit {report.max_share:.0%}"
    )


@app.command()
@handles_errors
def schema(
    out: Annotated[Path, typer.Option(help="Folder to write the JSON Schema files to.")] = Path(
        "schemas"
    ),
) -> None:
    """Write JSON Schema files for questions, rubrics and calibration YAML.

    Editors (VS Code's YAML extension, for one) validate a file as you type when it starts
    with `# yaml-language-server: $schema=../schemas/rubric.schema.json`.

    Example: interviewer bank schema --out schemas
    """
    out.mkdir(parents=True, exist_ok=True)
    for name, model in (
        ("questions", QuestionFile),
        ("rubric", Rubric),
        ("calibration", CalibrationFile),
    ):
        path = out / f"{name}.schema.json"
        text = json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}")
