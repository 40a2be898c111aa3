"""`interviewer simulate`: scripted candidates sit whole interviews; the interviewer's
behaviour is checked (interview/simulate.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from interviewer.cli.common import console, err_console, handles_errors
from interviewer.errors import InterviewerError

LANGS = {"zh": ["zh"], "en": ["en"], "both": ["zh", "en"]}


@handles_errors
def simulate_command(
    lang: Annotated[str, typer.Option(help="zh, en or both.")] = "both",
    persona: Annotated[
        str, typer.Option(help="Interviewer persona: senior, mentor, bar-raiser, or all.")
    ] = "all",
    candidate: Annotated[
        list[str] | None,
        typer.Option(help="Only this scripted candidate; repeat for several (default: all)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same questions.")] = 7,
    questions: Annotated[int, typer.Option(min=1, max=20, help="Questions per interview.")] = 3,
    bank_dir: Annotated[Path | None, typer.Option("--bank", help="Bank folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run whole interviews with scripted candidates (strong, partial, terse, rambling,
    "I don't know", off-topic, gibberish, empty, prompt injection, a repeater, and one who
    answers the follow-up with the missed point) through the real interview in plain mode,
    offline, and check how the interviewer behaves. Exits 1 if a check fails.

    Example: interviewer simulate --lang en --persona senior --questions 2
    """
    from interviewer.bank.loader import load_bank
    from interviewer.config import load_settings
    from interviewer.interview.personas import personas
    from interviewer.interview.simulate import CANDIDATE_NAMES, CHECKS, Run, simulate

    if lang not in LANGS:
        raise InterviewerError(f"--lang {lang!r} is not zh, en or both", hint="Use --lang both.")
    names = sorted(personas())
    if persona != "all" and persona not in names:
        raise InterviewerError(
            f"no persona named {persona!r}", hint=f"Personas: {', '.join(names)}, or all."
        )
    unknown = [c for c in candidate or [] if c not in CANDIDATE_NAMES]
    if unknown:
        raise InterviewerError(
            f"no scripted candidate named {', '.join(map(repr, unknown))}",
            hint=f"Candidates: {', '.join(CANDIDATE_NAMES)}.",
        )
    bank = load_bank(load_settings(bank_dir=bank_dir).bank_dir)
    chosen = names if persona == "all" else [persona]

    def progress(run: Run) -> None:
        if not as_json:  # (on stderr: which interview is running, and its scores)
            scores = " ".join(f"{q.score:.0f}" for q in run.questions)
            err_console.print(
                f"{run.lang} {run.persona:<10} {run.candidate:<15} {scores}",
                style="dim",
                markup=False,
            )

    sim = simulate(
        bank,
        langs=LANGS[lang],
        personas=chosen,
        seed=seed,
        questions=questions,
        only=candidate,
        on_run=progress,
    )
    if as_json:
        console.print_json(sim.model_dump_json(exclude={"runs": {"__all__": {"output"}}}))
    else:
        table = Table(
            "check",
            "lang",
            "persona",
            "result",
            "cases",
            "candidates",
            "problems",
            title=f"Simulated candidates (seed {seed}, {questions} question(s) each, exam mode)",
        )
        for r in sim.results:
            mark = Text("pass", style="green") if r.passed else Text("FAIL", style="bold red")
            table.add_row(
                r.check,
                r.lang,
                r.persona,
                mark,
                str(r.cases),
                ", ".join(r.candidates),
                Text(
                    "\n".join(r.problems[:3])
                    + (f"\n… {len(r.problems) - 3} more" if len(r.problems) > 3 else "")
                ),
            )
        console.print(table)
        failed = sorted({r.check for r in sim.results if not r.passed})
        for name in failed:
            console.print(Text(f"FAIL {name}: ", style="bold red") + Text(CHECKS[name]))
        if not failed:
            console.print(Text("Every check passed.", style="green"))
    if not sim.passed:
        raise typer.Exit(1)
