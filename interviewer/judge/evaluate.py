"""Measure a judge against the calibration set's human grades.

Metrics: Pearson and Spearman correlation, mean absolute error, quadratic weighted kappa on
five score bands, per-key-point verdict accuracy, misconception detection, adversarial pass
rate (an adversarial answer passes when it scores <= 20), and consistency (each answer
graded `repeats` times: the spread of its scores).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel

from interviewer.bank.loader import Bank
from interviewer.bank.schema import CalibrationAnswer, CalibrationItem
from interviewer.judge.baseline import naive_score
from interviewer.judge.cascade import BandFigures
from interviewer.judge.schema import Grade

Half = Literal["tune", "held", "all"]
ADVERSARIAL_PASS = 20.0
BANDS = 5


class AnswerResult(BaseModel):
    question_id: str
    answer_id: str
    kind: str
    half: str
    human: float
    scores: list[float]
    verdicts_right: int
    verdicts_total: int
    misconceptions_expected: list[str]
    misconceptions_found: list[str]
    flags: list[str]
    naive: float = 0.0  # the naive baseline's score for this answer (0-100)

    @property
    def score(self) -> float:
        return self.scores[0]


class EvalReport(BaseModel):
    judge: str
    half: str
    answers: int
    questions: int
    pearson: float
    naive_pearson: float = 0.0  # the naive word-overlap baseline, in the same run
    spearman: float
    mae: float
    qwk: float
    verdict_accuracy: float
    misconception_recall: float
    misconception_precision: float
    adversarial_pass_rate: float
    adversarial_answers: int
    consistency_max_spread: float
    consistency_mean_spread: float
    mae_by_kind: dict[str, float]
    fallbacks: int
    # What the cascade's band does on this set: for the offline judge, the share it would
    # send and the error of the grades kept; for a cascade judge, the share it sent.
    cascade_band: str = ""
    cascade: BandFigures | None = None
    cascade_sent: int | None = None
    results: list[AnswerResult]


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    a, b = np.asarray(x, float), np.asarray(y, float)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(values: Sequence[float]) -> np.ndarray:
    a = np.asarray(values, float)
    order = a.argsort(kind="mergesort")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(len(a), dtype=float)
    for v in np.unique(a):  # ties share their mean rank
        same = a == v
        ranks[same] = ranks[same].mean()
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(list(_ranks(x)), list(_ranks(y)))


def band(score: float) -> int:
    return min(BANDS - 1, int(score // (100 / BANDS)))


def quadratic_weighted_kappa(x: Sequence[float], y: Sequence[float]) -> float:
    """Cohen's kappa with quadratic weights, on scores cut into five 20-point bands."""
    a = [band(v) for v in x]
    b = [band(v) for v in y]
    n = BANDS
    observed = np.zeros((n, n))
    for i, j in zip(a, b, strict=True):
        observed[i, j] += 1
    if observed.sum() == 0:
        return 0.0
    weights = np.array([[(i - j) ** 2 / (n - 1) ** 2 for j in range(n)] for i in range(n)])
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    denom = (weights * expected).sum()
    return 1.0 if denom == 0 else float(1 - (weights * observed).sum() / denom)


async def evaluate(
    bank: Bank,
    items: list[CalibrationItem],
    grade: Callable[[str, str], Awaitable[Grade]],
    judge_spec: str,
    half: Half = "all",
    repeats: int = 3,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Grade every calibration answer `repeats` times with `grade(question_id, text)`."""
    chosen = [i for i in items if half == "all" or i.half == half]
    jobs = [(item, answer) for item in chosen for answer in item.answers]
    semaphore = asyncio.Semaphore(concurrency)
    done = 0

    async def one(item: CalibrationItem, answer: CalibrationAnswer) -> AnswerResult:
        nonlocal done
        grades: list[Grade] = []
        async with semaphore:
            for _ in range(max(1, repeats)):
                grades.append(await grade(item.question_id, answer.text))
        done += 1
        if progress:
            progress(done, len(jobs))
        first = grades[0]
        q, rubric = bank.question(item.question_id), bank.rubric(item.question_id)
        naive = 100 * max(
            naive_score(q.prompt.zh + " " + q.prompt.en, ref, answer.text)
            for ref in (rubric.reference_answer.zh, rubric.reference_answer.en)
        )
        right = sum(1 for v in first.verdicts if answer.verdicts.get(v.key_point) == v.verdict)
        return AnswerResult(
            question_id=item.question_id,
            answer_id=answer.id,
            kind=answer.kind,
            half=item.half,
            human=answer.human_score,
            scores=[g.score for g in grades],
            verdicts_right=right,
            verdicts_total=len(answer.verdicts),
            misconceptions_expected=list(answer.misconceptions),
            misconceptions_found=[m.id for m in first.misconceptions],
            flags=list(first.flags),
            naive=round(naive, 2),
        )

    results = list(await asyncio.gather(*(one(i, a) for i, a in jobs)))
    return summarise(results, judge_spec, half, len(chosen))


def summarise(results: list[AnswerResult], judge: str, half: str, questions: int) -> EvalReport:
    human = [r.human for r in results]
    judged = [r.score for r in results]
    errors = [abs(h - j) for h, j in zip(human, judged, strict=True)]
    expected = sum(len(r.misconceptions_expected) for r in results)
    found = sum(len(r.misconceptions_found) for r in results)
    hits = sum(len(set(r.misconceptions_expected) & set(r.misconceptions_found)) for r in results)
    adversarial = [r for r in results if r.kind == "adversarial"]
    spreads = [max(r.scores) - min(r.scores) for r in results]
    kinds = sorted({r.kind for r in results})
    return EvalReport(
        judge=judge,
        half=half,
        answers=len(results),
        questions=questions,
        pearson=round(pearson(human, judged), 4),
        naive_pearson=round(pearson(human, [r.naive for r in results]), 4),
        spearman=round(spearman(human, judged), 4),
        mae=round(float(np.mean(errors)) if errors else 0.0, 2),
        qwk=round(quadratic_weighted_kappa(human, judged), 4),
        verdict_accuracy=round(
            sum(r.verdicts_right for r in results) / max(1, sum(r.verdicts_total for r in results)),
            4,
        ),
        misconception_recall=round(hits / expected, 4) if expected else 1.0,
        misconception_precision=round(hits / found, 4) if found else 1.0,
        adversarial_pass_rate=round(
            sum(1 for r in adversarial if r.score <= ADVERSARIAL_PASS) / len(adversarial), 4
        )
        if adversarial
        else 1.0,
        adversarial_answers=len(adversarial),
        consistency_max_spread=round(max(spreads, default=0.0), 2),
        consistency_mean_spread=round(float(np.mean(spreads)) if spreads else 0.0, 2),
        mae_by_kind={k: _mean_error(errors, results, k) for k in kinds},
        fallbacks=sum(1 for r in results if "judge_fallback" in r.flags),
        results=results,
    )


def _mean_error(errors: list[float], results: list[AnswerResult], kind: str) -> float:
    mine = [e for e, r in zip(errors, results, strict=True) if r.kind == kind]
    return round(float(np.mean(mine)), 2)
