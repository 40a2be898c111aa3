"""Measure a judge on sets of real graded answers that nobody on this project wrote.

A set is a JSONL file, one answer a line: `question`, `reference` (and optionally
`references`, every acceptable answer), `answer`, and a grade: `label` (correct /
incorrect / contradictory ...) or `score` (any numeric scale), optionally `split`. A
sentence pair (`a`, `b`, `score`) is read as a reference and an answer to no question.
Each answer is graded through the same path as `interviewer grade`: an ad-hoc rubric made
from the question and a reference, against every reference given, keeping the best.
Every figure is printed beside the naive baseline (`judge/baseline.py`) measured in the
same run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from interviewer.errors import InterviewerError
from interviewer.judge.adhoc import adhoc_rubric
from interviewer.judge.baseline import naive_score
from interviewer.judge.evaluate import pearson, spearman
from interviewer.judge.schema import Grade

BLOCKING = {"empty", "gibberish", "off_topic", "keyword_stuffing", "injection"}
Grader = Callable[[str, str, str], Grade]


class ExternalRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str
    reference: str = ""
    references: list[str] = Field(default_factory=list)
    answer: str
    label: str | None = None
    score: float | None = None
    split: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _sentence_pair(cls, data: Any) -> Any:
        """A sentence-similarity pair (`a`, `b`, `score`, as in STS-B) is read as a reference
        and an answer to no question."""
        if isinstance(data, dict) and "answer" not in data and {"a", "b"} <= data.keys():
            return {**data, "question": "", "reference": data["a"], "answer": data["b"]}
        return data

    def all_references(self) -> list[str]:
        refs = [r for r in [self.reference, *self.references] if r.strip()]
        return list(dict.fromkeys(refs))


class SetReport(BaseModel):
    name: str
    answers: int
    kind: str  # "labels" or "scores"
    judge: dict[str, float]
    naive: dict[str, float]
    correct_answers: int
    correct_zeroed_by_guard: int
    zeroed_share: float
    flagged: dict[str, int]


def read_set(path: Path, split: str | None) -> list[ExternalRow]:
    rows: list[ExternalRow] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = ExternalRow.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as e:
            raise InterviewerError(
                f"{path}:{n}: not an answer row ({str(e).splitlines()[0]})",
                hint="Each line needs question, reference(s), answer, and label or score.",
            ) from e
        if row.label is None and row.score is None:
            raise InterviewerError(f"{path}:{n}: the row has neither `label` nor `score`")
        if not row.all_references():
            raise InterviewerError(f"{path}:{n}: the row has no reference answer")
        if split is None or row.split is None or row.split == split:
            rows.append(row)
    if not rows:
        raise InterviewerError(
            f"{path}: no answer rows" + (f" in split {split!r}" if split else "")
        )
    return rows


def grade_row(grade: Grader, row: ExternalRow) -> Grade:
    """The best grade over the row's references."""
    best: Grade | None = None
    for ref in row.all_references():
        g = grade(row.question, ref, row.answer)
        if best is None or g.score > best.score:
            best = g
    assert best is not None
    return best


def offline_grader() -> Grader:
    from interviewer.judge import offline_judge

    judge = offline_judge()

    def grade(question: str, reference: str, answer: str) -> Grade:
        q, rubric = adhoc_rubric(question, reference=reference)
        return judge.grade(q, rubric, answer)

    return grade


def auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve, ties counted half (Mann-Whitney)."""
    pos, neg = score[positive], score[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
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


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
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
    if all(r.label is not None for r in rows):
        truth = np.array([str(r.label).casefold() == "correct" for r in rows])
        kind = "labels"
        judge_m = {"auc": auc(truth, judged), "macro_f1": macro_f1(truth, judged >= 0.5)}
        threshold = float(np.median(naive))
        naive_m = {"auc": auc(truth, naive), "macro_f1": macro_f1(truth, naive >= threshold)}
    else:
        scores = np.array([float(r.score or 0.0) for r in rows])
        top = float(scores.max()) or 1.0
        truth = scores >= 0.8 * top
        kind = "scores"
        judge_m = {
            "pearson": pearson(judged.tolist(), scores.tolist()),
            "spearman": spearman(judged.tolist(), scores.tolist()),
            "mae": float(np.mean(np.abs(judged - scores / top))),
        }
        naive_m = {
            "pearson": pearson(naive.tolist(), scores.tolist()),
            "spearman": spearman(naive.tolist(), scores.tolist()),
            "mae": float(np.mean(np.abs(naive - scores / top))),
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
        judge={k: round(v, 4) for k, v in judge_m.items()},
        naive={k: round(v, 4) for k, v in naive_m.items()},
        correct_answers=correct,
        correct_zeroed_by_guard=zeroed,
        zeroed_share=round(zeroed / correct, 4) if correct else 0.0,
        flagged=flagged,
    )


def set_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise InterviewerError(f"{path}: no .jsonl files in this folder")
        return files
    if not path.exists():
        raise InterviewerError(f"{path}: no such file or folder")
    return [path]
