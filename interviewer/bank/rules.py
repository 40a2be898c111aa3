"""The rules that span files: one question per id, one rubric per question, and every
reference (follow-up → key point, related question, inventory id) pointing at something.

`assemble` puts the parsed files together into a Bank and reports every problem at once,
each at the file and line it is about. A file that failed to parse still declares its ids
(read leniently), so that one broken file does not also make its rubric an "orphan" or
its question "rubric-less".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from interviewer.bank.bank import Bank, Located, inventory_ids
from interviewer.bank.errors import BankError, Problem, display_path
from interviewer.bank.schema import Question, Rubric
from interviewer.bank.yamlmap import line_of

T = TypeVar("T")

MIN_KEY_POINTS, MAX_KEY_POINTS, MIN_FOLLOW_UPS = 3, 7, 2

QuestionLines = list[tuple[Question, int]]
"""A question file's questions, each with the line it starts at."""
RubricData = tuple[Rubric, Any]
"""A rubric file's rubric and the YAML it was read from (for lines)."""


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """One bank file: what it holds, or (when it failed) its problems and declared ids."""

    path: Path
    value: T | None
    problems: Sequence[Problem] = ()
    declared: frozenset[str] = frozenset()


def assemble(
    root: Path,
    questions: Iterable[Parsed[QuestionLines]],
    rubrics: Iterable[Parsed[RubricData]],
    strict: bool,
) -> Bank:
    """The bank of these files (in order), or a BankError listing every problem found.

    `strict` adds the content rules (key point and follow-up counts, sources); the
    structural ones always apply.
    """
    bank = Bank(root=root)
    problems: list[Problem] = []
    broken_question_ids: set[str] = set()
    for qfile in questions:
        if qfile.value is None:
            problems.extend(qfile.problems)
            broken_question_ids |= qfile.declared
        else:
            problems.extend(_add_questions(bank, qfile.path, qfile.value))

    broken_rubric_ids: set[str] = set()
    rubric_paths: dict[str, Path] = {}
    for rfile in rubrics:
        if rfile.value is None:
            problems.extend(rfile.problems)
            broken_rubric_ids |= rfile.declared | {rfile.path.stem}
            continue
        rubric, data = rfile.value
        if rubric.question_id in broken_question_ids:
            continue
        problems.extend(_add_rubric(bank, rfile.path, rubric, data, rubric_paths, strict))

    known_inventory = inventory_ids()
    for qid, question in bank.questions.items():
        if qid in broken_rubric_ids:
            continue
        where = bank.where[qid]
        display = display_path(where.path, root)
        problems.extend(
            check_question(question, where.line, display, bank, known_inventory, strict)
        )
    if problems:
        raise BankError(problems)
    return bank


def _add_questions(bank: Bank, path: Path, loaded: QuestionLines) -> list[Problem]:
    """Adds the file's questions to `bank`; an id seen before is a problem, not added."""
    problems = []
    for question, line in loaded:
        if question.id in bank.questions:
            first = bank.where[question.id]
            problems.append(
                Problem(
                    display_path(path, bank.root),
                    line,
                    f"duplicate question id {question.id!r} "
                    f"(first at {display_path(first.path, bank.root)}:{first.line})",
                )
            )
            continue
        bank.questions[question.id] = question
        bank.where[question.id] = Located(path, line)
    return problems


def _add_rubric(
    bank: Bank,
    path: Path,
    rubric: Rubric,
    data: Any,
    rubric_paths: dict[str, Path],
    strict: bool,
) -> list[Problem]:
    """Adds the rubric to `bank` unless its question is missing or has one already."""
    display = display_path(path, bank.root)
    qid = rubric.question_id
    line = line_of(data, ["question_id"])
    if qid not in bank.questions:
        return [Problem(display, line, f"rubric for {qid!r}, but no question has that id")]
    if qid in bank.rubrics:
        other = display_path(rubric_paths[qid], bank.root)
        return [Problem(display, line, f"second rubric for {qid!r} (also {other})")]
    problems = []
    if path.stem != qid:
        problems.append(
            Problem(display, line, f"rubric file for {qid!r} should be named {qid}.yaml")
        )
    bank.rubrics[qid] = rubric
    rubric_paths[qid] = path
    problems.extend(check_rubric(rubric, data, display, strict))
    return problems


_DUPLICATE_ID = {
    "key_points": "duplicate key point id {!r}",
    "misconceptions": "duplicate id {!r} (key point and misconception ids share one namespace)",
}


def check_rubric(rubric: Rubric, data: Any, display: str, strict: bool) -> Iterator[Problem]:
    """Problems inside one rubric: ids used twice; with `strict`, its size and sources."""
    ids = [
        *(("key_points", i, kp.id) for i, kp in enumerate(rubric.key_points)),
        *(("misconceptions", i, mc.id) for i, mc in enumerate(rubric.misconceptions)),
    ]
    seen: set[str] = set()
    for field, i, item_id in ids:  # one namespace: a misconception cannot reuse a key point id
        if item_id in seen:
            line = line_of(data, [field, i, "id"])
            yield Problem(display, line, _DUPLICATE_ID[field].format(item_id))
        seen.add(item_id)
    if strict:
        n = len(rubric.key_points)
        if not MIN_KEY_POINTS <= n <= MAX_KEY_POINTS:
            yield Problem(
                display,
                line_of(data, ["key_points"]),
                f"{n} key points; a rubric has {MIN_KEY_POINTS} to {MAX_KEY_POINTS}",
            )
        if not rubric.sources:
            yield Problem(
                display, line_of(data, ["question_id"]), "no sources; name the paper or docs"
            )


def check_question(
    question: Question,
    line: int,
    display: str,
    bank: Bank,
    known_inventory: frozenset[str],
    strict: bool,
) -> Iterator[Problem]:
    """Problems with what a question points at: its rubric, related questions, inventory."""
    rubric = bank.rubrics.get(question.id)
    if rubric is None:
        yield Problem(display, line, f"question {question.id!r} has no rubric ({question.id}.yaml)")
    else:
        kp_ids = {kp.id for kp in rubric.key_points}
        for fu in question.follow_ups:
            if fu.probes not in kp_ids:
                yield Problem(
                    display,
                    line,
                    f"{question.id}: follow-up probes {fu.probes!r}, which is not a key point "
                    f"of its rubric (key points: {', '.join(sorted(kp_ids))})",
                )
    if strict and len(question.follow_ups) < MIN_FOLLOW_UPS:
        yield Problem(
            display,
            line,
            f"{question.id}: {len(question.follow_ups)} follow-ups; "
            f"a question has at least {MIN_FOLLOW_UPS}",
        )
    for rel in question.related:
        if rel not in bank.questions:
            yield Problem(display, line, f"{question.id}: related question {rel!r} does not exist")
    for inv in question.inventory_ids:
        if inv not in known_inventory:
            yield Problem(display, line, f"{question.id}: unknown inventory id {inv!r}")
