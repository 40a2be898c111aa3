"""`interviewer eval --external` and the fitted verdict model: real graded sets through the
ad-hoc path, beside the naive baseline; short correct answers are answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from interviewer.cli import app
from interviewer.errors import InterviewerError
from interviewer.judge import offline_judge
from interviewer.judge.adhoc import adhoc_rubric
from interviewer.judge.baseline import naive_score
from interviewer.judge.external import auc, macro_f1, measure, offline_grader, read_set
from interviewer.judge.verdict_model import MODEL_FILE, VerdictModel

ROWS = [
    {
        "question": "Which stack operation corresponds to enqueue?",
        "reference": "push",
        "answer": "Push.",
        "label": "correct",
    },
    {
        "question": "Which stack operation corresponds to enqueue?",
        "reference": "push",
        "answer": "pop",
        "label": "incorrect",
    },
    {
        "question": "What is the time complexity of a linear search?",
        "reference": "O(n)",
        "answer": "O(n)",
        "label": "correct",
    },
    {
        "question": "What is the time complexity of a linear search?",
        "reference": "O(n)",
        "answer": "O(1), it is constant",
        "label": "incorrect",
    },
    {
        "question": "What does a linked list have that an array does not?",
        "reference": "a linked list can grow and shrink, its length is not fixed",
        "references": ["linked lists can be of variable length"],
        "answer": "Its length is not fixed: a linked list can grow as you add nodes.",
        "label": "correct",
        "split": "eval",
    },
]


def write(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_auc_counts_ties_half_and_macro_f1() -> None:
    truth = np.array([True, True, False, False])
    assert auc(truth, np.array([0.9, 0.8, 0.1, 0.2])) == 1.0
    assert auc(truth, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert auc(truth, np.array([0.1, 0.2, 0.9, 0.8])) == 0.0
    assert macro_f1(truth, truth) == 1.0


def test_naive_baseline_demotes_the_question_and_uses_bigrams_for_chinese() -> None:
    assert (
        naive_score("What is a stack?", "A stack is last in first out", "last in, first out") == 1.0
    )
    assert naive_score("What is a stack?", "A stack is last in first out", "a stack") == 0.0
    assert naive_score("什么是栈？", "后进先出", "栈就是后进先出") == 1.0
    assert (
        naive_score("什么是栈？", "后进先出", "先进先出") == 2 / 3
    )  # 进先 and 先出 of 后进, 进先, 先出


def test_short_correct_answers_are_graded_not_zeroed(tmp_path: Path) -> None:
    report = measure("set", read_set(write(tmp_path, ROWS), None), offline_grader())
    assert report.correct_answers == 3
    assert report.correct_zeroed_by_guard == 0 and not report.flagged
    assert report.kind == "labels" and set(report.judge) == set(report.naive) == {"auc", "macro_f1"}
    assert report.judge["auc"] == 1.0  # every correct answer above every incorrect one


def test_a_bad_row_names_its_file_and_line_and_split_filters(tmp_path: Path) -> None:
    path = write(tmp_path, ROWS)
    assert len(read_set(path, "eval")) == len(ROWS)  # rows without a split are kept
    bad = write(tmp_path, [*ROWS[:2], {"question": "q", "answer": "a"}])
    with pytest.raises(InterviewerError, match=r"set\.jsonl:3"):
        read_set(bad, None)


def test_cli_prints_each_set_beside_the_baseline(tmp_path: Path) -> None:
    scores = [dict(r, score=1.0 if r["label"] == "correct" else 0.0) for r in ROWS]
    for r in scores:
        r.pop("label")
    (tmp_path / "sets").mkdir()
    write(tmp_path / "sets", scores)
    (tmp_path / "sets" / "notes.jsonl").write_text('{"text": "x", "score": 1}\n', "utf-8")
    result = CliRunner().invoke(app, ["eval", "--external", str(tmp_path / "sets")])
    assert result.exit_code == 0, result.output
    assert "naive baseline" in result.output and "pearson" in result.output
    assert "skipped notes.jsonl" in result.output


def test_a_sentence_pair_is_a_reference_and_an_answer(tmp_path: Path) -> None:
    rows = [
        {"a": "一架飞机正在起飞。", "b": "一架飞机正在起飞。", "score": 5.0},
        {"a": "一个人正在吹长笛。", "b": "一个男人在切洋葱。", "score": 0.2},
    ]
    [same, other] = read_set(write(tmp_path, rows), None)
    assert (same.reference, same.answer, same.question) == (rows[0]["a"], rows[0]["b"], "")
    report = measure("pairs", [same, other], offline_grader())
    assert report.kind == "scores" and report.correct_answers == 1


def test_the_verdict_model_refuses_features_it_was_not_fitted_on() -> None:
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    model = VerdictModel.from_dict(data)
    assert model.fingerprint == offline_judge().model.fingerprint
    refit = VerdictModel.from_dict(dict(data, bias=data["bias"] + 0.1))
    assert refit.fingerprint != model.fingerprint  # grades and caches know the fit
    with pytest.raises(ValueError, match="refit"):
        VerdictModel.from_dict(dict(data, features=data["features"][:-1]))


def test_a_verbatim_reference_is_covered() -> None:
    q, rubric = adhoc_rubric("What is the time complexity of a linear search?", reference="O(n)")
    grade = offline_judge().grade(q, rubric, "It is O(n).")
    assert grade.score == 100 and grade.verdicts[0].evidence
