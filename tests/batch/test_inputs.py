"""Reading batch input files: JSONL, CSV (with a BOM), Markdown, and what goes wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interviewer.batch.inputs import FileError, Row, RowError, read_rows


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_jsonl_rows_keep_their_line_numbers_and_fields(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "question_id": "lora-principle", "answer": "低秩分解"},
        {"question": "What is LoRA?", "key_points": ["freezes W", "trains B and A"], "answer": "x"},
        {"question": "q", "reference": "ref text", "answer": "y", "max_score": 10},
    ]
    path = write(tmp_path / "in.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    rows = read_rows(path)
    assert [type(r) for r in rows] == [Row, Row, Row]
    first, second, third = rows
    assert isinstance(first, Row) and first.id == "a" and first.line == 1
    assert isinstance(second, Row) and second.id == "2"  # no id: the line number
    assert second.key_points is not None
    assert [k.text for k in second.key_points] == ["freezes W", "trains B and A"]
    assert isinstance(third, Row) and third.max_score == 10 and third.reference == "ref text"


def test_bad_jsonl_lines_become_error_rows_that_name_the_line(tmp_path: Path) -> None:
    text = "\n".join(
        [
            json.dumps({"question_id": "lora-principle", "answer": "ok"}),
            "{not json",
            json.dumps({"question_id": "lora-principle"}),
            json.dumps({"answer": "no question"}),
            json.dumps(["a list"]),
            json.dumps({"question_id": "x", "answer": "a", "max_score": -1}),
        ]
    )
    rows = read_rows(write(tmp_path / "in.jsonl", text))
    assert isinstance(rows[0], Row)
    errors = rows[1:]
    assert all(isinstance(r, RowError) for r in errors)
    messages = [r.error for r in errors if isinstance(r, RowError)]
    for line, message in zip(range(2, 7), messages, strict=True):
        assert message.startswith(f"line {line}:"), message
    assert "answer" in messages[1]
    assert "question_id" in messages[2]
    assert "max_score" in messages[4]


def test_csv_with_a_bom_multiline_answers_and_pipe_separated_key_points(tmp_path: Path) -> None:
    text = (
        "id,question,key_points,answer\r\n"
        'r1,什么是 LoRA？,冻结原权重 | 只训练低秩矩阵,"第一行\n第二行"\r\n'
        'r2,What is KV cache?,"[""stores K and V"", ""grows with length""]",It caches K and V.\r\n'
    )
    rows = read_rows(write(tmp_path / "in.csv", text, "utf-8-sig"))
    assert len(rows) == 2
    r1, r2 = rows
    assert isinstance(r1, Row) and r1.id == "r1" and r1.line == 2
    assert r1.answer == "第一行\n第二行"
    assert r1.key_points is not None and [k.text for k in r1.key_points] == [
        "冻结原权重",
        "只训练低秩矩阵",
    ]
    assert isinstance(r2, Row) and r2.line == 4  # the quoted newline took a line
    assert r2.key_points is not None and len(r2.key_points) == 2


def test_csv_row_with_too_many_fields_is_an_error_row(tmp_path: Path) -> None:
    text = "question_id,answer\nlora-principle,fine\nlora-principle,a, b\n"
    rows = read_rows(write(tmp_path / "in.csv", text))
    assert isinstance(rows[0], Row)
    assert isinstance(rows[1], RowError) and rows[1].error.startswith("line 3:")
    assert "quote" in rows[1].error


def test_csv_without_an_answer_column_is_unusable(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"in\.csv:1: no `answer` column"):
        read_rows(write(tmp_path / "in.csv", "question,reply\nq,a\n"))


def test_non_utf8_file_says_so_with_the_line(tmp_path: Path) -> None:
    text = "question_id,answer\nlora-principle,好的\nlora-principle,低秩\n"
    path = write(tmp_path / "gbk.csv", text, "gbk")
    with pytest.raises(FileError) as info:
        read_rows(path)
    assert "gbk.csv:2: the file is not UTF-8" in info.value.message
    assert "iconv" in info.value.hint


def test_markdown_headings_are_questions_and_the_text_below_is_the_answer(
    tmp_path: Path,
) -> None:
    text = (
        "# My answers\n\nintro text\n\n"
        "## 什么是 LoRA？\n\nLoRA 冻结原权重。\n\n只训练 B 和 A。\n"
        "## What is a KV cache?\n\n"
        "## Why RMSNorm?\nIt drops the mean.\n"
    )
    rows = read_rows(write(tmp_path / "answers.md", text))
    assert len(rows) == 3
    first, empty, third = rows
    assert isinstance(first, Row) and first.question == "什么是 LoRA？"
    assert first.answer == "LoRA 冻结原权重。\n\n只训练 B 和 A。" and first.line == 5
    assert isinstance(empty, RowError) and empty.error == "line 10: no answer"
    assert isinstance(third, Row) and third.answer == "It drops the mean."


def test_markdown_without_headings_and_unknown_suffix_are_unusable(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="no `## question` headings"):
        read_rows(write(tmp_path / "a.md", "just text\n"))
    with pytest.raises(FileError, match=r"unknown input format \.xlsx"):
        read_rows(write(tmp_path / "a.xlsx", "x"))
