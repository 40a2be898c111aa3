"""`interviewer --due`: an interview made of the questions whose review items are due."""

from __future__ import annotations

import typer

from interviewer.cli.common import console
from interviewer.config import Settings


def due_plan(settings: Settings, topics: list[str]) -> dict[str, list[str]]:
    """The plan for `InterviewContext.review`; with nothing due, say when the next item is
    and exit (status 0: nothing is wrong)."""
    from interviewer.bank.loader import load_bank
    from interviewer.practice.due import Practice, plan_due

    bank = load_bank(settings.bank_dir)
    plan, message = plan_due(
        Practice.of_settings(settings), bank, topics=topics, limit=settings.questions
    )
    if not plan:
        console.print(message, markup=False)
        raise typer.Exit(0)
    points = sum(len(v) for v in plan.values())
    console.print(f"Practising {points} due key point(s) in {len(plan)} question(s).", markup=False)
    return plan
