"""Fuzzing the batch readers: whatever the bytes, a reader returns rows or refuses the file
with a FileError; it never raises anything else, every error row names its own line, and
every text it returns can be written as UTF-8. Each example has a deadline."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interviewer.batch.inputs import FileError, Parsed, Row, RowError, parse

FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)
SUFFIXES = [".jsonl", ".csv", ".tsv", ".md"]
# Characters that str.splitlines() (but not a JSONL or CSV reader) treats as line ends,
# a BOM, NUL, and a lone surrogate escape.
TRICKY = [
    "\u2028",
    "\u2029",
    "\x85",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\ufeff",
    "\x00",
    "\udfff",
]
tricky_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(TRICKY)), max_size=40
)
FIELDS = [
    "id", "answer", "question_id", "question", "key_points", "reference", "references",
    "max_score", "other",
]  # fmt: skip
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=8,
)


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check(rows: list[Parsed], lines: int) -> None:
    """The contract of every reader's output."""
    for row in rows:
        assert 1 <= row.line <= lines, (row.line, lines)
        assert encodable(row.id)
        if isinstance(row, RowError):
            assert row.error.startswith(f"line {row.line}: "), row.error
            assert encodable(row.error)
        else:
            assert isinstance(row.answer, str) and encodable(row.answer)
            for text in (row.question, row.question_id, row.reference, *(row.references or [])):
                assert text is None or encodable(text)


def read(raw: bytes, suffix: str) -> list[Parsed] | None:
    path = Path(f"answers{suffix}")
    try:
        rows = parse(raw, path)
    except FileError as exc:
        assert exc.message.startswith(str(path)), exc.message
        return None
    check(rows, len(re.split(rb"\r\n|\r|\n", raw)))  # CSV, JSONL and Markdown lines alike
    return rows


@FUZZ
@given(raw=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(raw: bytes, suffix: str) -> None:
    read(raw, suffix)


@FUZZ
@given(
    raw=st.text(
        alphabet=st.sampled_from(
            [*TRICKY, "\n", "\r", "{", "}", "[", "]", '"', ",", ":", "a", "#"]
        ),
        max_size=200,
    ),
    suffix=st.sampled_from(SUFFIXES),
)
def test_random_structure_characters(raw: str, suffix: str) -> None:
    read(raw.encode("utf-8", "surrogatepass"), suffix)


@FUZZ
@given(
    objects=st.lists(
        st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=6) | json_value,
        max_size=8,
    ),
    ending=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    ascii_only=st.booleans(),
)
def test_random_json_lines_give_one_row_per_line(
    objects: list[Any], ending: str, bom: bool, ascii_only: bool
) -> None:
    lines = [json.dumps(o, ensure_ascii=ascii_only) for o in objects]
    raw = (("\ufeff" if bom else "") + ending.join(lines) + ending).encode("utf-8", "surrogatepass")
    rows = read(raw, ".jsonl")
    if not objects:
        assert rows is None, "a file with no rows is refused"
        return
    assert rows is not None
    # json.dumps never writes a raw newline: one row per line, whatever else is in it.
    assert [r.line for r in rows] == list(range(1, len(lines) + 1))


@FUZZ
@given(
    answers=st.lists(tricky_text.filter(lambda t: "\x00" not in t), min_size=1, max_size=6),
    ids=st.booleans(),
)
def test_valid_rows_keep_their_text_exactly(answers: list[str], ids: bool) -> None:
    """Separators and BOMs inside a value are data: JSONL and CSV give the text back."""
    objects = [
        {**({"id": f"r{i}"} if ids else {}), "question_id": "q", "answer": a}
        for i, a in enumerate(answers)
    ]
    raw = "\n".join(json.dumps(o, ensure_ascii=False) for o in objects).encode(
        "utf-8", "surrogatepass"
    )
    rows = read(raw, ".jsonl")
    assert rows is not None
    for row, answer in zip(rows, answers, strict=True):
        if answer == "":
            assert isinstance(row, RowError)
        elif encodable(answer):
            assert isinstance(row, Row) and row.answer == answer

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "question_id", "answer"])
    for i, answer in enumerate(answers):
        writer.writerow([f"c{i}", "q", answer])
    rows = read(("\ufeff" + buffer.getvalue()).encode("utf-8", "surrogatepass"), ".csv")
    assert rows is not None
    by_id = {r.id: r for r in rows}
    for i, answer in enumerate(answers):
        row = by_id.get(f"c{i}")
        if answer.strip() and row is not None and encodable(answer):
            assert isinstance(row, Row) and row.answer == answer, (answer, row)


def strict_reader_ends_in_a_quote(text: str, delimiter: str) -> bool | None:
    """csv.reader(strict=True) as the oracle: True if it ends inside a quoted field, False
    if it reads the text whole, None if it stops earlier at something only strict refuses."""
    try:
        list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return True if "unexpected end of data" in str(exc) else None
    return False


@FUZZ
@given(
    body=st.text(alphabet=st.sampled_from(['"', ",", "\t", "\n", "\r", "a", " "]), max_size=60),
    suffix=st.sampled_from([".csv", ".tsv"]),
)
def test_a_file_is_refused_for_an_open_quote_exactly_when_csv_ends_inside_one(
    body: str, suffix: str
) -> None:
    delimiter = "\t" if suffix == ".tsv" else ","
    text = delimiter.join(["id", "question_id", "answer"]) + "\n" + body
    expected = strict_reader_ends_in_a_quote(text, delimiter)
    try:
        rows = parse(text.encode("utf-8"), Path(f"answers{suffix}"))
    except FileError as exc:
        if "a header and no rows below it" in exc.message:  # nothing but blank records
            records = csv.reader(io.StringIO(text, newline="").readlines(), delimiter=delimiter)
            assert not any(v.strip() for record in list(records)[1:] for v in record), body
            return
        assert expected is not False, exc.message
        assert "never closed" in exc.message, exc.message
        line = int(exc.message.split(":")[1])
        assert '"' in re.split(r"\r\n|\r|\n", text)[line - 1]  # the line the quote opens on
        return
    assert expected is not True, body
    check(rows, len(re.split(r"\r\n|\r|\n", text)))
