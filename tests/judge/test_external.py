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
from interviewer.judge.external import (
    LABELS,
    ExternalRow,
    NoSuchSplitError,
    auc,
    grade_row,
    macro_f1,
    measure,
    offline_grader,
    read_set,
)
from interviewer.judge.schema import Grade
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
    one_class = np.array([True, True])
    assert auc(one_class, np.array([0.9, 0.1])) is None  # nothing to rank against
    assert macro_f1(one_class, one_class) is None and macro_f1(~one_class, one_class) is None


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


def test_a_bad_row_names_its_file_and_line(tmp_path: Path) -> None:
    bad = write(tmp_path, [*ROWS[:2], {"question": "q", "answer": "a"}])
    with pytest.raises(InterviewerError, match=r"set\.jsonl:3"):
        read_set(bad, None)


def test_a_split_keeps_only_its_own_rows_and_one_no_row_has_is_refused(tmp_path: Path) -> None:
    rows = [dict(ROWS[0], split="train"), ROWS[1], ROWS[4]]  # ROWS[1] has no split
    path = write(tmp_path, rows)
    assert [r.answer for r in read_set(path, "eval")] == [ROWS[4]["answer"]]
    assert len(read_set(path, None)) == 3
    with pytest.raises(NoSuchSplitError) as caught:
        read_set(path, "evl")  # a typo measures nothing rather than the rows without a split
    assert caught.value.message == (
        f"{path}: no row is in split 'evl'; the file's splits are eval, train"
    )
    with pytest.raises(NoSuchSplitError, match="no row of the file has a `split`"):
        read_set(write(tmp_path, ROWS[:4]), "eval")


def test_in_a_folder_a_set_without_the_split_is_skipped_and_none_left_is_an_error(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "sets"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps(ROWS[4]) + "\n" + json.dumps(ROWS[0]), "utf-8")
    (folder / "b.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS[:4]), "utf-8")
    result = CliRunner().invoke(app, ["eval", "--external", str(folder), "--split", "eval"])
    output = " ".join(result.output.split())
    assert result.exit_code == 0, output
    assert "a: 1 answers" in output and "b: " not in output
    assert "skipped b.jsonl" in output and "no row of the file has a `split`" in output
    result = CliRunner().invoke(app, ["eval", "--external", str(folder), "--split", "evl"])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert "the file's splits are eval" in output and "no file in the folder has rows" in output
    assert "auc" not in output
    result = CliRunner().invoke(
        app, ["eval", "--external", str(folder / "b.jsonl"), "--split", "x"]
    )
    assert result.exit_code == 2 and "b.jsonl: no row is in split 'x'" in result.output


def test_figures_a_set_cannot_give_are_none_with_the_reason_not_numbers(tmp_path: Path) -> None:
    grader = offline_grader()
    correct = [r for r in ROWS if r["label"] == "correct"]
    report = measure("all correct", read_set(write(tmp_path, correct), None), grader)
    for side in (report.judge, report.naive):
        assert side == {"auc": None, "macro_f1": None}
    assert report.undefined["judge"]["auc"] == "all are labelled correct"
    assert report.undefined["naive"]["macro_f1"] == "all are labelled correct"
    equal = [unlabelled(r, 3.0) for r in ROWS]
    for rows, why in ((equal, "all scores are equal"), (equal[:1], "the set has one answer only")):
        report = measure("scores", read_set(write(tmp_path, rows), None), grader)
        assert report.judge["pearson"] is report.naive["spearman"] is None
        assert report.judge["mae"] is not None  # MAE needs no spread
        assert report.undefined["naive"] == {"pearson": why, "spearman": why}
    none_correct = [r for r in ROWS if r["label"] != "correct"]
    report = measure("none correct", read_set(write(tmp_path, none_correct), None), grader)
    assert report.judge["auc"] is None and report.zeroed_share is None


def test_a_judge_that_grades_every_answer_alike_has_no_correlation(tmp_path: Path) -> None:
    def same(question: str, reference: str, answer: str) -> Grade:
        return Grade(verdicts=[], score=50.0, judge="fake")

    rows = [unlabelled(r, 1.0 if r["label"] == "correct" else 0.0) for r in ROWS]
    report = measure("set", read_set(write(tmp_path, rows), None), same)
    assert report.judge["pearson"] is None and report.naive["pearson"] is not None
    assert report.undefined == {
        "judge": {"pearson": "all judge grades are equal", "spearman": "all judge grades are equal"}
    }


def test_cli_prints_undefined_figures_as_such_and_succeeds(tmp_path: Path) -> None:
    path = write(tmp_path, [unlabelled(r, 2) for r in ROWS])
    result = CliRunner().invoke(app, ["eval", "--external", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.count("n/a (all scores are equal)") == 4  # 2 figures, 2 columns
    result = CliRunner().invoke(app, ["eval", "--external", str(path), "--json"])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    assert report["judge"]["pearson"] is None and report["naive"]["spearman"] is None


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


def unlabelled(row: dict[str, object], score: object) -> dict[str, object]:
    return {**{k: v for k, v in row.items() if k != "label"}, "score": score}


def refusal(path: Path) -> str:
    """read_set's error for the file, message and hint, on one line."""
    with pytest.raises(InterviewerError) as caught:
        read_set(path, None)
    return " ".join(str(caught.value).split())


@pytest.mark.parametrize(
    ("encoding", "bom", "said"),
    [
        ("gbk", b"", ["set.jsonl:2: the file is not UTF-8", "convert it to utf-8", "-f GBK"]),
        ("utf-16-le", b"\xff\xfe", ["set.jsonl: the file is UTF-16", "iconv -f UTF-16 -t UTF-8"]),
    ],
)
def test_a_file_not_in_utf8_is_named_with_its_line_and_what_to_do(
    tmp_path: Path, encoding: str, bom: bytes, said: list[str]
) -> None:
    chinese = {
        "question": "什么是栈？",
        "reference": "后进先出",
        "answer": "后进先出",
        "label": "correct",
    }
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in [ROWS[0], chinese])
    path = tmp_path / "set.jsonl"
    path.write_bytes(bom + text.encode(encoding))
    message = refusal(path)
    assert all(s.casefold() in message.casefold() for s in said), message
    if encoding != "gbk":
        assert "GBK" not in message
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # a UTF-8 BOM is simply read
    assert [r.answer for r in read_set(path, None)] == [ROWS[0]["answer"], "后进先出"]


def test_a_folder_with_a_file_not_in_utf8_is_an_error_and_nothing_is_graded(
    tmp_path: Path,
) -> None:
    (tmp_path / "sets").mkdir()
    write(tmp_path / "sets", ROWS)
    gbk = {
        "question": "什么是栈？",
        "reference": "后进先出",
        "answer": "后进先出",
        "label": "correct",
    }
    (tmp_path / "sets" / "gbk.jsonl").write_bytes(json.dumps(gbk, ensure_ascii=False).encode("gbk"))
    result = CliRunner().invoke(app, ["eval", "--external", str(tmp_path / "sets")])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert "gbk.jsonl:1: the file is not UTF-8" in output and "iconv" in output
    assert "Traceback" not in output and "naive baseline" not in output


@pytest.mark.parametrize("label", ["maybe", "yes", "42"])
def test_an_unknown_label_is_refused_with_the_accepted_ones(tmp_path: Path, label: str) -> None:
    path = write(tmp_path, [*ROWS[:2], dict(ROWS[2], label=label)])
    message = refusal(path)
    assert f'set.jsonl:3: `label` is "{label}"' in message
    assert "correct, incorrect, contradictory" in message
    result = CliRunner().invoke(app, ["eval", "--external", str(path)])
    assert result.exit_code == 2 and "auc" not in result.output


def test_eval_help_lists_every_accepted_label() -> None:
    result = CliRunner().invoke(app, ["eval", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    said = " ".join(result.output.replace("│", " ").split())
    assert all(label in said for label in LABELS), said
    assert "only correct counts as correct" in said


def test_labels_are_read_in_any_case() -> None:
    rows = [dict(ROWS[0], label="Correct"), dict(ROWS[1], label="Partially correct-incomplete")]
    assert [r.label for r in map(ExternalRow.model_validate, rows)] == [
        "correct",
        "partially_correct_incomplete",
    ]


def test_a_file_mixing_labels_and_scores_names_the_first_row_without_the_usual_one(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, [ROWS[0], unlabelled(ROWS[1], 0.0), *ROWS[2:]])
    assert "set.jsonl:2: the row has no `label`, while 4 other rows" in refusal(path)
    path = write(tmp_path, [unlabelled(ROWS[0], 1.0), ROWS[1], unlabelled(ROWS[2], 1.0)])
    assert "set.jsonl:2: the row has no `score`, while 2 other rows" in refusal(path)
    both = [dict(unlabelled(r, 1.0), label=r["label"]) for r in ROWS]  # both on every row: fine
    assert len(read_set(write(tmp_path, [*both, ROWS[0]]), None)) == len(ROWS) + 1


@pytest.mark.parametrize("score", ["NaN", "Infinity", "-Infinity", '"nan"'])
def test_a_score_must_be_a_finite_number(tmp_path: Path, score: str) -> None:
    lines = [json.dumps(unlabelled(r, 1.0)) for r in ROWS[:3]]
    lines[1] = lines[1].replace('"score": 1.0', f'"score": {score}')
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    message = refusal(path)
    assert "set.jsonl:2: `score` is" in message and "must be a finite number" in message


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("label", 1, "`label` is 1: it must be one of correct, incorrect"),
        ("label", True, "`label` is true: it must be one of correct"),
        ("score", "high", '`score` is "high": it must be a finite number'),
        ("score", True, "`score` is true: it must be a finite number"),
        ("references", ["push", 3], "`references[1]` is 3: it must be a string"),
        ("answer", None, "`answer` is null: it must be a string"),
    ],
)
def test_a_field_of_the_wrong_kind_is_named_with_what_it_must_be(
    tmp_path: Path, field: str, value: object, said: str
) -> None:
    row = {k: v for k, v in ROWS[0].items() if k != "label"} | {"label": "correct", field: value}
    if field == "score":
        row.pop("label")
    message = refusal(write(tmp_path, [ROWS[1], row]))
    assert f"set.jsonl:2: {said}" in message, message
    no_answer = {k: v for k, v in ROWS[0].items() if k != "answer"}
    missing = refusal(write(tmp_path, [ROWS[1], no_answer]))
    assert "set.jsonl:2: the row has no `answer` (it must be a string)" in missing


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("[" * 100_000 + "]" * 100_000, "not usable JSON (a value is nested too deeply)"),
        ('{"score": ' + "9" * 5_000 + "}", "not usable JSON (Exceeds the limit"),
    ],
)
def test_json_python_cannot_read_is_named_with_its_line(
    tmp_path: Path, line: str, said: str
) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + line + "\n", encoding="utf-8")
    assert f"set.jsonl:2: {said}" in refusal(path)


def test_a_row_is_graded_by_a_reference_it_does_not_contradict() -> None:
    """As `interviewer grade` keeps it: the best grade among the references the answer does
    not turn round, with the offline judge itself."""
    row = ExternalRow(
        question="What does a voltage reading of 1.5 tell you about the terminals?",
        references=["the terminals are not connected", "the terminals are separated by a gap"],
        answer="The terminals are connected to each other.",
        label="contradictory",
    )
    grader = offline_grader()
    by_each = [grader(row.question, ref, row.answer) for ref in row.references]
    assert by_each[0].score > by_each[1].score  # the one it turns round scores it higher
    assert grade_row(grader, row).score == by_each[1].score
    calls: list[str] = []

    def fake(question: str, reference: str, answer: str) -> Grade:
        calls.append(reference)
        score = 85.0 if reference == row.references[0] else 30.0
        return Grade(verdicts=[], score=score, judge="fake")

    assert grade_row(fake, row).score == 30.0  # not the 85 of the one it turns round
    agreeing = row.model_copy(update={"answer": "They are not connected."})
    assert grade_row(fake, agreeing).score == 85.0
    assert calls == [*row.references, *row.references]  # every reference graded
