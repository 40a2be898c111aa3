"""Measure a judge on sets of real graded answers that nobody on this project wrote.

A set is a UTF-8 JSONL file, one answer a line: `question`, `reference` (and optionally
`references`, every acceptable answer), `answer`, and a grade, the same kind on every row:
`label` (SemEval's: correct, or incorrect / contradictory / partially_correct_incomplete /
irrelevant / non_domain) or `score` (a finite number, any scale), optionally `split`. A
sentence pair (`a`, `b`, `score`) is read as a reference and an answer to no question.
Each answer is graded through the same path as `interviewer grade`: an ad-hoc rubric made
from the question and a reference, against every reference given, keeping the best.
Every figure is printed beside the naive baseline (`judge/baseline.py`) measured in the
same run. A figure the set cannot give (a correlation where every score is equal, AUC where
every label is the same) is None, with the reason, never a number that would read as a
measurement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from interviewer.errors import InterviewerError
from interviewer.fsutil import NotUtf8, utf8_text
from interviewer.judge.adhoc import adhoc_rubric
from interviewer.judge.baseline import naive_score
from interviewer.judge.contradiction import graded_by
from interviewer.judge.evaluate import pearson, spearman
from interviewer.judge.schema import Grade

BLOCKING = {"empty", "gibberish", "off_topic", "keyword_stuffing", "injection"}
Grader = Callable[[str, str, str], Grade]
Kind = Literal["labels", "scores"]

CORRECT = "correct"
# SemEval-2013's 2-, 3- and 5-way labels: only `correct` counts as a correct answer.
LABELS = (
    CORRECT,
    "incorrect",
    "contradictory",
    "partially_correct_incomplete",
    "irrelevant",
    "non_domain",
)
FIELD_RULES = {
    "question": "a string",
    "reference": "a string",
    "references": "a list of strings",
    "answer": "a string",
    "label": f"one of {', '.join(LABELS)} (any case)",
    "score": "a finite number (not NaN or Infinity)",
    "split": "a string",
}
ROW_HINT = (
    "Each line needs question, reference or references, answer, and label or score "
    "(see `interviewer eval --help`)."
)
FIELD_HINTS = {
    "label": "Map the file's labels to these (only `correct` counts as correct), "
    "or give every row a numeric `score` instead.",
    "score": "Write every score as a number on one scale (e.g. 0 to 5); fix or remove the "
    "rows that have none.",
}


class NotASetError(InterviewerError):
    """The file holds no answer rows to measure: in a folder it is skipped, not refused."""


def label_key(label: str) -> str:
    """`Partially correct-incomplete` -> `partially_correct_incomplete`."""
    return "_".join(label.casefold().replace("-", " ").split())


class ExternalRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str
    reference: str = ""
    references: list[str] = Field(default_factory=list)
    answer: str
    label: str | None = None
    score: float | None = Field(default=None, allow_inf_nan=False)
    split: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _sentence_pair(cls, data: Any) -> Any:
        """A sentence-similarity pair (`a`, `b`, `score`, as in STS-B) is read as a reference
        and an answer to no question."""
        if isinstance(data, dict) and "answer" not in data and {"a", "b"} <= data.keys():
            return {**data, "question": "", "reference": data["a"], "answer": data["b"]}
        return data

    @field_validator("label")
    @classmethod
    def _known_label(cls, label: str | None) -> str | None:
        if label is None:
            return None
        if label_key(label) not in LABELS:
            raise ValueError("unknown label")
        return label_key(label)

    @field_validator("score", mode="before")
    @classmethod
    def _not_a_boolean(cls, score: Any) -> Any:
        if isinstance(score, bool):
            raise ValueError("a boolean is not a score")
        return score

    @property
    def correct(self) -> bool:
        return self.label == CORRECT

    def all_references(self) -> list[str]:
        refs = [r for r in [self.reference, *self.references] if r.strip()]
        return list(dict.fromkeys(refs))


Figures = dict[str, float | None]  # None: the set cannot give it (see SetReport.undefined)


class SetReport(BaseModel):
    name: str
    answers: int
    kind: Kind
    judge: Figures
    naive: Figures
    # Why a figure is None, by side ("judge", "naive") and figure.
    undefined: dict[str, dict[str, str]] = Field(default_factory=dict)
    correct_answers: int
    correct_zeroed_by_guard: int
    zeroed_share: float | None  # None when the set has no correct answer
    flagged: dict[str, int]


class NoSuchSplitError(NotASetError):
    """No row of the file is in the split asked for: a file given alone is refused, and in
    a folder it is skipped (a folder may mix sets with and without that split)."""


def read_set(path: Path, split: str | None) -> list[ExternalRow]:
    """The rows of one set: all of them, or with `split` only those whose `split` is it.
    Raises InterviewerError naming the file, the line and the field for anything it cannot
    measure, NotASetError for a file with no answer rows, and NoSuchSplitError, listing
    the file's splits, when no row is in `split` (a typo would otherwise measure
    something else, or nothing)."""
    lines = _json_lines(path, _text(path))
    if not any(_answer_shaped(data) for _, data in lines):
        raise NotASetError(f"{path}: no answer rows", hint=ROW_HINT)
    rows = [(n, _row(path, n, data)) for n, data in lines]
    kept = [(n, r) for n, r in rows if split is None or r.split == split]
    if not kept:
        raise _no_such_split(path, split, sorted({r.split for _, r in rows if r.split}))
    _one_kind(path, kept)
    return [r for _, r in kept]


def _no_such_split(path: Path, split: str | None, splits: list[str]) -> NoSuchSplitError:
    if not splits:
        return NoSuchSplitError(
            f"{path}: no row is in split {split!r}: no row of the file has a `split`",
            hint="Leave out --split to measure every row of the file.",
        )
    return NoSuchSplitError(
        f"{path}: no row is in split {split!r}; the file's splits are {', '.join(splits)}",
        hint="Give --split one of those, or leave it out to measure every row.",
    )


def _text(path: Path) -> str:
    """The file as text: UTF-8, with or without a BOM; anything else is an error."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InterviewerError(f"{path}: cannot read the file ({e.strerror})") from None
    try:
        return utf8_text(raw)
    except NotUtf8 as e:
        raise InterviewerError(f"{e.where(path)}: {e.detail}", e.convert_hint(path)) from None


def _json_lines(path: Path, text: str) -> list[tuple[int, Any]]:
    """Each non-blank line parsed, with its line number."""
    parsed: list[tuple[int, Any]] = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            parsed.append((n, json.loads(line)))
        except json.JSONDecodeError as e:
            raise InterviewerError(
                f"{path}:{n}: not a JSON object ({e.msg} at column {e.colno})", hint=ROW_HINT
            ) from None
        except (ValueError, RecursionError) as e:  # a number of 5,000 digits; deep nesting
            problem = "a value is nested too deeply" if isinstance(e, RecursionError) else e
            raise InterviewerError(f"{path}:{n}: not usable JSON ({problem})", ROW_HINT) from None
    return parsed


def _answer_shaped(data: Any) -> bool:
    return isinstance(data, dict) and ("answer" in data or {"a", "b"} <= data.keys())


def _row(path: Path, n: int, data: Any) -> ExternalRow:
    try:
        row = ExternalRow.model_validate(data)
    except ValidationError as e:
        problem, field = _field_problem(e)
        raise InterviewerError(
            f"{path}:{n}: {problem}", hint=FIELD_HINTS.get(field, ROW_HINT)
        ) from None
    if row.label is None and row.score is None:
        raise InterviewerError(f"{path}:{n}: the row has neither `label` nor `score`", ROW_HINT)
    if not row.all_references():
        raise InterviewerError(f"{path}:{n}: the row has no reference answer", ROW_HINT)
    return row


def _field_problem(e: ValidationError) -> tuple[str, str]:
    """What is wrong with the row's first bad field, and that field's name."""
    error = e.errors()[0]
    loc = error["loc"]
    if not loc:
        return f"the line is not a JSON object but {_shown(error['input'])}", ""
    field = str(loc[0])
    name = field + "".join(f"[{p}]" for p in loc[1:])
    rule = FIELD_RULES.get(field, "valid") if len(loc) == 1 else "a string"
    if error["type"] == "missing":
        return f"the row has no `{name}` (it must be {rule})", field
    return f"`{name}` is {_shown(error['input'])}: it must be {rule}", field


def _shown(value: Any) -> str:
    """A value as the file spells it, cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_kind(path: Path, rows: list[tuple[int, ExternalRow]]) -> None:
    """Every row graded the same way: all with a label, or all with a score."""
    labelled = sum(r.label is not None for _, r in rows)
    scored = sum(r.score is not None for _, r in rows)
    if len(rows) in (labelled, scored):
        return
    field = "label" if labelled >= scored else "score"
    n = next(n for n, r in rows if (r.label if field == "label" else r.score) is None)
    raise InterviewerError(
        f"{path}:{n}: the row has no `{field}`, while {max(labelled, scored)} other rows "
        f"of the file have one",
        hint="Give every row a `label`, or every row a `score`: a set is measured on one.",
    )


def kind_of(rows: list[ExternalRow]) -> Kind:
    if all(r.label is not None for r in rows):
        return "labels"
    if all(r.score is not None for r in rows):
        return "scores"
    raise ValueError("the set mixes labelled and scored rows (read_set refuses such a file)")


def grade_row(grade: Grader, row: ExternalRow) -> Grade:
    """The best grade over the row's references that the answer does not contradict, as
    `interviewer grade` keeps it."""
    refs = row.all_references()
    grades = [grade(row.question, ref, row.answer) for ref in refs]
    return grades[graded_by(row.answer, refs, [g.score for g in grades], row.question)]


def offline_grader() -> Grader:
    from interviewer.judge import offline_judge

    judge = offline_judge()

    def grade(question: str, reference: str, answer: str) -> Grade:
        q, rubric = adhoc_rubric(question, reference=reference)
        return judge.grade(q, rubric, answer)

    return grade


def auc(positive: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve, ties counted half (Mann-Whitney); None when every answer
    is of one class, which leaves nothing to rank against."""
    pos, neg = score[positive], score[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(values):  # average ranks over ties
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float | None:
    """The mean F1 of correct and of not correct; None when every answer is of one class:
    the other class's F1 is then 0 or 0/0 whatever the judge does, so it measures nothing."""
    if truth.all() or not truth.any():
        return None
    f1s = []
    for cls in (True, False):
        tp = float(np.sum((predicted == cls) & (truth == cls)))
        fp = float(np.sum((predicted == cls) & (truth != cls)))
        fn = float(np.sum((predicted != cls) & (truth == cls)))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s))


def measure(
    name: str,
    rows: list[ExternalRow],
    grade: Grader,
    progress: Callable[[int, int], Any] | None = None,
) -> SetReport:
    grades = []
    for i, row in enumerate(rows):
        grades.append(grade_row(grade, row))
        if progress:
            progress(i + 1, len(rows))
    judged = np.array([g.score / 100 for g in grades])
    naive = np.array(
        [max(naive_score(r.question, ref, r.answer) for ref in r.all_references()) for r in rows]
    )
    flagged: dict[str, int] = {}
    for g in grades:
        for f in g.flags:
            flagged[f] = flagged.get(f, 0) + 1
    kind = kind_of(rows)
    if kind == "labels":
        truth = np.array([r.correct for r in rows])
        judge_m = _label_figures(truth, judged, 0.5)
        naive_m = _label_figures(truth, naive, float(np.median(naive)))
        judge_why = naive_why = _one_class(truth)
    else:
        scores = np.array([r.score for r in rows], dtype=float)
        top = float(scores.max()) or 1.0
        truth = scores >= 0.8 * top
        judge_why = _uncorrelated(scores, judged, "judge")
        naive_why = _uncorrelated(scores, naive, "baseline")
        judge_m = _score_figures(scores, top, judged, correlated=judge_why is None)
        naive_m = _score_figures(scores, top, naive, correlated=naive_why is None)
    undefined = {
        side: {k: why for k, v in figures.items() if v is None}
        for side, figures, why in (("judge", judge_m, judge_why), ("naive", naive_m, naive_why))
        if why
    }
    zeroed = sum(
        1
        for ok, g in zip(truth, grades, strict=True)
        if ok and g.score == 0 and BLOCKING & set(g.flags)
    )
    correct = int(np.sum(truth))
    return SetReport(
        name=name,
        answers=len(rows),
        kind=kind,
        judge=judge_m,
        naive=naive_m,
        undefined=undefined,
        correct_answers=correct,
        correct_zeroed_by_guard=zeroed,
        zeroed_share=round(zeroed / correct, 4) if correct else None,
        flagged=flagged,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _label_figures(truth: np.ndarray, score: np.ndarray, threshold: float) -> Figures:
    return {
        "auc": _rounded(auc(truth, score)),
        "macro_f1": _rounded(macro_f1(truth, score >= threshold)),
    }


def _one_class(truth: np.ndarray) -> str | None:
    """Why AUC and macro-F1 are undefined on a labelled set, if they are."""
    if truth.all():
        return "all are labelled correct"
    if not truth.any():
        return "none is labelled correct"
    return None


def _score_figures(
    scores: np.ndarray, top: float, graded: np.ndarray, *, correlated: bool
) -> Figures:
    """Pearson and Spearman (None unless `correlated`: `pearson` itself answers 0.0 where it
    is undefined) and MAE, with the set's scale brought to 0-1."""
    return {
        "pearson": _rounded(pearson(graded.tolist(), scores.tolist())) if correlated else None,
        "spearman": _rounded(spearman(graded.tolist(), scores.tolist())) if correlated else None,
        "mae": _rounded(float(np.mean(np.abs(graded - scores / top)))),
    }


def _uncorrelated(scores: np.ndarray, graded: np.ndarray, who: str) -> str | None:
    """Why no correlation can be taken between the set's scores and the grades `who` gave,
    if none can: it needs two answers, and neither side all one value."""
    if len(scores) < 2:
        return "the set has one answer only"
    if np.ptp(scores) == 0:
        return "all scores are equal"
    if np.ptp(graded) == 0:
        return f"all {who} grades are equal"
    return None


def set_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise InterviewerError(f"{path}: no .jsonl files in this folder")
        return files
    if not path.exists():
        raise InterviewerError(f"{path}: no such file or folder")
    return [path]
