"""Calibration answers (graded by hand, for fitting and checking the judges), checked
against the bank: one file per question at most, and verdicts on exactly its key points."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from interviewer.bank.bank import Bank
from interviewer.bank.errors import BankError, Problem, display_path
from interviewer.bank.schema import CalibrationFile, CalibrationItem
from interviewer.bank.yamlmap import line_of, read_yaml, validate, yaml_files


def load_calibration(path: Path, bank: Bank) -> list[CalibrationItem]:
    """Load calibration answers from a file or a folder of files, checked against the bank."""
    files = yaml_files(path) if path.is_dir() else [path]
    items: list[CalibrationItem] = []
    problems: list[Problem] = []
    seen_q: dict[str, str] = {}
    for file in files:
        display = display_path(file, bank.root)
        try:
            data = read_yaml(file, display)
            parsed = validate(CalibrationFile, data or [], display)
        except BankError as exc:
            problems.extend(exc.problems)
            continue
        for i, item in enumerate(parsed.root):
            line = line_of(data, [i])
            problems.extend(_check_calibration(item, data, i, line, display, bank, seen_q))
            items.append(item)
    if problems:
        raise BankError(problems)
    return items


def _check_calibration(
    item: CalibrationItem,
    data: Any,
    index: int,
    line: int,
    display: str,
    bank: Bank,
    seen_q: dict[str, str],
) -> Iterator[Problem]:
    qid = item.question_id
    if qid in seen_q:
        yield Problem(display, line, f"{qid!r} already has calibration answers in {seen_q[qid]}")
    seen_q[qid] = display
    rubric = bank.rubrics.get(qid)
    if rubric is None:
        yield Problem(display, line, f"calibration for {qid!r}, but the bank has no such question")
        return
    kp_ids = {kp.id for kp in rubric.key_points}
    mc_ids = {mc.id for mc in rubric.misconceptions}
    answer_ids: set[str] = set()
    for j, answer in enumerate(item.answers):
        aline = line_of(data, [index, "answers", j])
        if answer.id in answer_ids:
            yield Problem(display, aline, f"duplicate answer id {answer.id!r}")
        answer_ids.add(answer.id)
        if set(answer.verdicts) != kp_ids:
            missing = sorted(kp_ids - set(answer.verdicts))
            extra = sorted(set(answer.verdicts) - kp_ids)
            yield Problem(
                display,
                aline,
                f"{answer.id}: verdicts must name every key point of {qid} exactly "
                f"(missing: {missing or 'none'}; unknown: {extra or 'none'})",
            )
        for mc in answer.misconceptions:
            if mc not in mc_ids:
                yield Problem(display, aline, f"{answer.id}: unknown misconception {mc!r}")
