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
    assert "iconv -f GBK -t UTF-8 gbk.csv > gbk-utf8.csv" in info.value.hint
    utf16 = write(tmp_path / "answers.jsonl", '{"question": "q", "answer": "a"}\n', "utf-16")
    with pytest.raises(FileError) as info:
        read_rows(utf16)
    assert info.value.message == f"{utf16}: the file is UTF-16, not UTF-8"
    assert "iconv -f UTF-16 -t UTF-8 answers.jsonl > answers-utf8.jsonl" in info.value.hint


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


def test_a_line_column_is_not_the_row_s_line(tmp_path: Path) -> None:
    text = 'id,question,answer,line\nr1,What is a stack?,"LIFO",5\n'
    rows = read_rows(write(tmp_path / "in.csv", text))
    assert isinstance(rows[0], Row) and rows[0].line == 2
    rows = read_rows(
        write(tmp_path / "in.jsonl", json.dumps({"question": "q", "answer": "a", "line": 9}))
    )
    assert isinstance(rows[0], Row) and rows[0].line == 1


def test_a_markdown_rule_of_three_hashes_stays_in_the_answer(tmp_path: Path) -> None:
    text = "## What is LoRA?\nLow-rank.\n###\nMore of the answer.\n"
    (row,) = read_rows(write(tmp_path / "answers.md", text))
    assert isinstance(row, Row) and row.answer == "Low-rank.\n###\nMore of the answer."


def test_a_markdown_heading_without_a_question_is_an_error_row(tmp_path: Path) -> None:
    text = "## What is LoRA?\nLow-rank adapters.\n##\nAn answer to no question.\n## \nAnother.\n"
    rows = read_rows(write(tmp_path / "answers.md", text))
    assert len(rows) == 3
    first, no_question, blank = rows
    assert isinstance(first, Row) and first.answer == "Low-rank adapters."  # nothing added
    for row, line in ((no_question, 3), (blank, 5)):
        assert isinstance(row, RowError)
        assert row.error.startswith(f"line {line}: a `##` heading with no question")


def test_markdown_without_headings_and_unknown_suffix_are_unusable(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="no `## question` headings"):
        read_rows(write(tmp_path / "a.md", "just text\n"))
    with pytest.raises(FileError, match=r"unknown input format \.xlsx"):
        read_rows(write(tmp_path / "a.xlsx", "x"))


def surrogate_free(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_one_bad_line_never_loses_the_file_and_each_error_names_its_line(
    tmp_path: Path,
) -> None:
    good = json.dumps({"id": "good", "question_id": "q", "answer": "fine"})
    lines = [
        '{"id": "deep", "question_id": "q", "answer": ' + "[" * 100_000,  # 1
        '{"id": "sur\\udfff", "question_id": "q", "answer": "a"}',  # 2: lone surrogate id
        '{"id": "s2", "question_id": "q", "answer": "bad \\ud800 text"}',  # 3
        json.dumps({"id": "obj", "question_id": "q", "answer": {"text": "hello"}}),  # 4
        json.dumps({"id": "num", "question_id": "q", "answer": 123}),  # 5
        json.dumps({"id": "list", "question_id": "q", "answer": ["a", "b"]}),  # 6
        json.dumps({"id": {"x": 1}, "question_id": "q", "answer": "a"}),  # 7
        '{"id": "nan", "question_id": "q", "answer": "a", "max_score": NaN}',  # 8
        '{"id": "inf", "question_id": "q", "answer": "a", "max_score": 1e400}',  # 9
        '{"id": "k", "question": "q", "key_points": '
        + "[" * 5_000
        + "]" * 5_000
        + ', "answer": "a"}',
        good,  # 11
    ]
    rows = read_rows(write(tmp_path / "in.jsonl", "\n".join(lines) + "\n"))
    assert len(rows) == 11
    *bad, last = rows
    assert isinstance(last, Row) and last.id == "good" and last.line == 11
    for line, row in enumerate(bad, 1):
        assert isinstance(row, RowError), (line, row)
        assert row.line == line and row.error.startswith(f"line {line}:"), row.error
        assert surrogate_free(row.id) and surrogate_free(row.error)
    assert "nested too deeply" in bad[0].error
    assert "id" in bad[1].error and "surrogate" in bad[1].error
    assert "answer" in bad[2].error
    for row in bad[3:6]:
        assert "`answer` must be a string" in row.error, row.error
    assert "`id` must be a string or a whole number" in bad[6].error
    assert "max_score" in bad[7].error and "max_score" in bad[8].error


def test_a_number_id_is_kept_as_text(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path / "in.jsonl", '{"id": 7, "question_id": "q", "answer": "a"}\n'))
    assert isinstance(rows[0], Row) and rows[0].id == "7"


def test_jsonl_is_split_on_newlines_only_not_on_unicode_line_separators(tmp_path: Path) -> None:
    seps = "\u2028 \u2029 \x85 \x0b \x0c \x1c \x1d \x1e"
    text = (
        json.dumps({"id": "a", "question_id": "q", "answer": f"one{seps}two"}, ensure_ascii=False)
        + "\r\n"
        + json.dumps({"id": "b", "question_id": "q", "answer": "three"})
        + "\r\n\n"
        + "\ufeff"  # a BOM at the start of a later line (files joined with cat)
        + json.dumps({"id": "c", "question_id": "q", "answer": "four"})
        + "\n"
    )
    rows = read_rows(write(tmp_path / "in.jsonl", "\ufeff" + text))
    assert [(type(r), r.id, r.line) for r in rows] == [(Row, "a", 1), (Row, "b", 2), (Row, "c", 4)]
    assert isinstance(rows[0], Row) and rows[0].answer == f"one{seps}two"


def test_a_hash_comment_in_a_fenced_code_block_is_part_of_the_answer(tmp_path: Path) -> None:
    answer = (
        "Use a list:\n\n"
        "```python\n"
        "## push onto the top\n"
        "stack.append(x)\n"
        "  ~~~\n"  # the other fence character does not close it
        "## and pop from it\n"
        "```\n\n"
        "Both ends are the top."
    )
    rows = read_rows(write(tmp_path / "a.md", f"## What is a stack?\n{answer}\n"))
    assert len(rows) == 1 and isinstance(rows[0], Row)
    assert rows[0].question == "What is a stack?" and rows[0].answer == answer


@pytest.mark.parametrize(
    ("fenced", "rows_read"),
    [
        ("~~~~\n## code\n~~~\n## still code\n", 1),  # a shorter fence does not close it
        ("   ```\n## code\n```  \n## Second\nanswer\n", 2),  # closed: a heading again
        ("    ```\n## Second\nanswer\n", 2),  # 4 spaces: an indented line, not a fence
        ("``` a`b\n## Second\nanswer\n", 2),  # a ` after the fence: not a fence
        ("```\n## never closed\n", 1),  # an unclosed fence runs to the end
    ],
)
def test_code_fences_are_read_as_commonmark_reads_them(
    tmp_path: Path, fenced: str, rows_read: int
) -> None:
    rows = read_rows(write(tmp_path / "a.md", "## First\nsome text\n" + fenced))
    assert len(rows) == rows_read and all(isinstance(r, Row) for r in rows)


def test_markdown_is_split_on_newlines_only(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path / "a.md", "## Q one\u2028## not a heading\nanswer\u2029more\n"))
    assert len(rows) == 1 and isinstance(rows[0], Row)
    assert (
        rows[0].question == "Q one\u2028## not a heading" and rows[0].answer == "answer\u2029more"
    )


def test_a_repeated_id_is_an_error_row_that_names_both_lines(tmp_path: Path) -> None:
    text = "\n".join(
        json.dumps({"id": i, "question_id": "q", "answer": "a"}) for i in ["x", "y", "x", "x"]
    )
    rows = read_rows(write(tmp_path / "in.jsonl", text))
    assert [type(r) for r in rows] == [Row, Row, RowError, RowError]
    assert isinstance(rows[2], RowError)
    assert (
        rows[2].error == "line 3: the id 'x' was already used on line 1; give each row its own id"
    )
    assert isinstance(rows[3], RowError) and rows[3].error.startswith("line 4: the id 'x'")


STACK = {"question": "What is a stack?", "reference": "LIFO: push and pop at the top"}


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([1, None, 2], ["1", "line 2", "2"]),  # the id given after the row without one
        ([2, None, 1], ["2", "line 2", "1"]),  # ... and before it
        ([None, 1, None], ["line 1", "1", "3"]),  # a default nobody gives is kept
    ],
)
def test_a_row_without_an_id_never_takes_an_id_another_jsonl_row_gives(
    tmp_path: Path, ids: list[int | None], expected: list[str]
) -> None:
    lines = [
        json.dumps({**STACK, "answer": "push and pop", **({} if i is None else {"id": i})})
        for i in ids
    ]
    rows = read_rows(write(tmp_path / "in.jsonl", "\n".join(lines) + "\n"))
    assert [(type(r), r.id, r.line) for r in rows] == [
        (Row, row_id, line) for line, row_id in enumerate(expected, 1)
    ]


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["1", "", "3"], ["1", "line 3", "3"]),  # the id given after the row without one
        (["3", "", "x"], ["3", "line 3", "x"]),  # ... and before it
    ],
)
def test_a_row_without_an_id_never_takes_an_id_another_csv_row_gives(
    tmp_path: Path, ids: list[str], expected: list[str]
) -> None:
    body = "".join(f"{i},{STACK['question']},{STACK['reference']},pop\n" for i in ids)
    rows = read_rows(write(tmp_path / "in.csv", "id,question,reference,answer\n" + body))
    assert [(type(r), r.id, r.line) for r in rows] == [
        (Row, row_id, line) for line, row_id in enumerate(expected, 2)
    ]


def test_a_default_id_gives_way_even_to_an_id_spelt_like_itself(tmp_path: Path) -> None:
    lines = [
        {"id": 1, "question_id": "q", "answer": "a"},
        {"question_id": "q", "answer": "a"},
        {"id": "line 2", "question_id": "q", "answer": "a"},
        {"id": 2, "question_id": "q", "answer": "a"},
    ]
    rows = read_rows(write(tmp_path / "in.jsonl", "\n".join(json.dumps(x) for x in lines)))
    assert [(type(r), r.id) for r in rows] == [
        (Row, "1"),
        (Row, "line 2 (2)"),
        (Row, "line 2"),
        (Row, "2"),
    ]


def test_references_as_a_json_list_in_jsonl_and_csv(tmp_path: Path) -> None:
    line = {"question": "q", "references": ["push", "add to the top"], "answer": "push"}
    rows = read_rows(write(tmp_path / "in.jsonl", json.dumps(line)))
    assert isinstance(rows[0], Row) and rows[0].references == ["push", "add to the top"]
    text = (
        "question,reference,references,answer\n"
        'q,push,"[""add to the top"", ""push""]",push\n'
        "q,,not a list,push\n"
        'q,,"[1, 2]",push\n'
    )
    rows = read_rows(write(tmp_path / "in.csv", text))
    assert isinstance(rows[0], Row) and rows[0].reference == "push"
    assert rows[0].all_references() == ["push", "add to the top"]  # the union, in order
    for row, line in zip(rows[1:], (3, 4), strict=True):
        assert isinstance(row, RowError) and row.error.startswith(f"line {line}: references")


def test_references_and_key_points_without_any_text_are_error_rows(tmp_path: Path) -> None:
    lines = [
        {"question": "q", "references": [], "answer": "push"},
        {"question": "q", "references": ["", "  "], "answer": "push"},
        {"question": "q", "key_points": " | | ", "answer": "push"},
        {"question": "q", "key_points": "stack | push", "answer": "push"},
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    rows = read_rows(write(tmp_path / "in.jsonl", text))
    for row in rows[:2]:
        assert isinstance(row, RowError)
        assert row.error.startswith(f"line {row.line}: references")
        assert "holds no reference answer" in row.error
    assert isinstance(rows[2], RowError) and "no key point has any text" in rows[2].error
    assert isinstance(rows[3], Row) and rows[3].key_points is not None
    assert [k.text for k in rows[3].key_points] == ["stack", "push"]


def test_csv_quote_never_closed_refuses_the_file_naming_the_line_it_opens_on(
    tmp_path: Path,
) -> None:
    text = (
        "id,question_id,answer\n"
        'c1,lora-principle,"LoRA 冻结预训练权重\n'
        "c2,lora-principle,LoRA 是一种微调方法\n"
        "c3,lora-principle,third\n"
    )
    with pytest.raises(FileError) as info:
        read_rows(write(tmp_path / "unbal.csv", text))
    assert info.value.message.startswith(f"{tmp_path / 'unbal.csv'}:2: ")
    assert "never closed" in info.value.message and "Close the quote" in info.value.hint
    # The record c2 starts on line 4; its quote that is never closed opens on line 5.
    text = 'id,question_id,answer\nc1,q,"one\ntwo"\nc2,"q\nx","open\n\nrest'
    with pytest.raises(FileError, match=r"b\.csv:5: "):
        read_rows(write(tmp_path / "b.csv", text))
    with pytest.raises(FileError, match=r"h\.tsv:1: "):  # in the header itself
        read_rows(write(tmp_path / "h.tsv", 'id\t"answer\nc1\tx\n'))


def test_csv_closed_quotes_are_not_refused(tmp_path: Path) -> None:
    """Multi-line quoted fields, doubled quotes, text after a closing quote and a quote
    inside an unquoted field are all closed, in the last row too and without a final
    newline."""
    text = (
        "id,question_id,answer\r\n"
        'c1,q,"say ""hi""\r\nthen go"\r\n'
        'c2,q,"a"b"c\r\n'
        'c3,q,5" screen\r\n'
        'c4,q,"last\n\nrow, ends here"'
    )
    rows = read_rows(write(tmp_path / "in.csv", text))
    assert [(type(r), r.id, r.line) for r in rows] == [
        (Row, "c1", 2),
        (Row, "c2", 4),
        (Row, "c3", 5),
        (Row, "c4", 6),
    ]
    answers = [r.answer for r in rows if isinstance(r, Row)]
    assert answers == ['say "hi"\r\nthen go', 'ab"c', '5" screen', "last\n\nrow, ends here"]


def test_csv_answer_over_the_csv_field_limit_is_read_whole_with_its_id(tmp_path: Path) -> None:
    long = "LoRA 冻结预训练权重 " * 12_000  # 156,000 characters, over csv's 131,072
    text = f"id,question_id,answer\nlong1,lora-principle,{long}\nshort,lora-principle,ok\n"
    rows = read_rows(write(tmp_path / "long.csv", text))
    assert [(type(r), r.id) for r in rows] == [(Row, "long1"), (Row, "short")]
    assert isinstance(rows[0], Row) and rows[0].answer == long  # the runner truncates it


def test_error_rows_keep_their_own_id_or_get_one_no_real_id_can_take(tmp_path: Path) -> None:
    text = "id,question_id,answer\n9,lora-principle,LoRA,extra\n2,lora-principle,LoRA 低秩\n"
    rows = read_rows(write(tmp_path / "idclash.csv", text))
    assert [(type(r), r.id, r.line) for r in rows] == [(RowError, "9", 2), (Row, "2", 3)]
    text = "question_id,answer\nq,a,b\nq,fine\n"  # no id column: the error row's id names its line
    rows = read_rows(write(tmp_path / "noid.csv", text))
    assert [(type(r), r.id) for r in rows] == [(RowError, "line 2"), (Row, "3")]
    lines = [
        json.dumps({"id": "2", "question_id": "q", "answer": "a"}),
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"id": [1], "question_id": "q", "answer": "a"}),
        json.dumps({"question_id": "q"}),
        json.dumps({"id": "own", "question_id": "q"}),
        json.dumps({"id": "line 2", "question_id": "q", "answer": "a"}),
        json.dumps({"id": "own", "question_id": "q", "answer": "a"}),
    ]
    rows = read_rows(write(tmp_path / "in.jsonl", "\n".join(lines)))
    assert [(type(r), r.id) for r in rows] == [
        (Row, "2"),
        (RowError, "line 2"),
        (RowError, "line 3"),
        (RowError, "line 4"),
        (RowError, "line 5"),
        (RowError, "own"),
        (RowError, "line 2"),  # a real id an error row already holds is a repeat
        (RowError, "own"),
    ]
    assert [r.repeats for r in rows if isinstance(r, RowError)] == [None] * 5 + [2, 6]


def test_csv_with_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    text = "id,question_id,answer, Answer \nd1,lora-principle,one,two\n"
    with pytest.raises(FileError, match=r"dup\.csv:1: the column `answer` is named twice"):
        read_rows(write(tmp_path / "dup.csv", text))
    text = "id,question_id,answer,note,note,,\nd1,lora-principle,one,x,y,,\n"  # unused ones may
    rows = read_rows(write(tmp_path / "notes.csv", text))
    assert [(type(r), r.id) for r in rows] == [(Row, "d1")]


def test_csv_blank_lines_before_the_header_are_skipped(tmp_path: Path) -> None:
    text = "\r\n \n\t\nid,question_id,answer\nb1,lora-principle,LoRA\n"
    rows = read_rows(write(tmp_path / "blank.csv", text, "utf-8-sig"))
    assert [(type(r), r.id, r.line) for r in rows] == [(Row, "b1", 5)]
    with pytest.raises(FileError, match=r"late\.csv:3: no `answer` column \(columns: id, reply\)"):
        read_rows(write(tmp_path / "late.csv", "\n\nid,reply\nb1,x\n"))
    with pytest.raises(FileError, match=r"blank\.csv: the file is empty"):
        read_rows(write(tmp_path / "blank.csv", "\n \n"))


def test_a_file_without_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"only\.csv:2: a header and no rows below it"):
        read_rows(write(tmp_path / "only.csv", "\nid,question_id,answer\n\n"))
    for text in ("", "\n  \n\ufeff\n"):
        with pytest.raises(FileError, match=r"none\.jsonl: the file has no rows"):
            read_rows(write(tmp_path / "none.jsonl", text))
