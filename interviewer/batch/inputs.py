"""Batch input: JSONL, CSV and Markdown, read into rows that remember their line.

Columns (JSONL keys or CSV headers), per DESIGN.md:
- `id` (optional; a string or a whole number; an id used by an earlier row makes this row
  an error row), `answer` (required, a string). A row without an id takes its line number,
  or "line N" when another row, before or after it, gives that number as its own id: an
  id a row gives is never taken from it. An error row keeps its id when it can be read,
  else its id is "line N" too (a line holds one row, so the two never meet);
- `question_id` (a bank question), or `question` (text) with optional `key_points` (a list
  of strings or of {"text", "weight"}; in CSV a JSON list, or items separated by " | ")
  and/or `reference` (a reference answer) and/or `references` (a JSON list of reference
  answers; the answer is graded against each and the best grade is kept, among those it
  does not contradict: says with its negation turned round);
- `max_score` (optional): results also carry the score on that scale.
Markdown: each `## heading` is a question; the text under it, up to the next heading, is
the answer. A `## ` line inside a fenced code block (``` or ~~~, as CommonMark reads one; a
fence never closed runs to the end of the file) is answer text, not a heading.
A row that cannot be used becomes an error row that names its line; the file as a whole
is only refused when it cannot be read at all (in CSV: a column named twice,
or a quoted field never closed, which leaves the rows after it impossible to tell apart)
or holds no rows (empty, blank, a CSV header alone, Markdown without a `##` question).
Lines end at "\n", "\r\n" or "\r", never at the other characters `str.splitlines` treats
as line ends (U+2028...).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator

from interviewer.errors import InterviewerError
from interviewer.fsutil import NotUtf8, utf8_text
from interviewer.judge.adhoc import AdhocKeyPoint

_WORD = re.compile(r"\w")  # a key point has a letter, digit or character of some script


class FileError(InterviewerError):
    """The input file itself is unusable (exit code 2)."""


class Row(BaseModel):
    id: str
    line: int
    answer: str = Field(min_length=0)
    question_id: str | None = None
    question: str | None = None
    key_points: list[AdhocKeyPoint] | None = None
    reference: str | None = None
    references: list[str] | None = None
    max_score: float | None = Field(None, gt=0, allow_inf_nan=False)
    # The row gave no id, so `id` is its default: it gives way to the same id given by
    # another row (see `_defaults_give_way`).
    _default_id: bool = PrivateAttr(False)

    def all_references(self) -> list[str]:
        """`reference` and `references` together, blanks and repeats dropped, in order."""
        texts = [self.reference or "", *(self.references or [])]
        return list(dict.fromkeys(t for t in texts if t.strip()))

    @field_validator("references", mode="before")
    @classmethod
    def _references(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError('give a JSON list of strings, e.g. ["one", "two"]') from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError('give a JSON list of strings, e.g. ["one", "two"]')
        if not any(v.strip() for v in value):
            raise ValueError('the list holds no reference answer: give at least one, e.g. ["one"]')
        return value

    @field_validator("key_points", mode="before")
    @classmethod
    def _key_points(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                value = json.loads(text)
            else:
                value = [p.strip() for p in re.split(r"\s\|\s|\n", text) if _WORD.search(p)]
                if not value:
                    raise ValueError(
                        'no key point has any text: give key points separated by " | "'
                    )
        if isinstance(value, list):
            return [{"text": v} if isinstance(v, str) else v for v in value]
        return value


class RowError(BaseModel):
    id: str
    line: int
    error: str
    repeats: int | None = None  # the line of the earlier row with the same id


Parsed = Row | RowError


def read_rows(path: Path) -> list[Parsed]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileError(f"{path}: cannot read the file ({exc.strerror})") from None
    return parse(raw, path)


def parse(raw: bytes, path: Path) -> list[Parsed]:
    """Rows from a file's bytes; `path` gives the format (its suffix) and names the file."""
    rows = _defaults_give_way(_parse(raw, path))
    return _repeated_ids(rows)


def _parse(raw: bytes, path: Path) -> list[Parsed]:
    suffix = path.suffix.lower()
    try:
        text = utf8_text(raw)
    except NotUtf8 as exc:
        excel = "In Excel, save it as 'CSV UTF-8'. " if suffix in (".csv", ".tsv") else ""
        raise FileError(
            f"{exc.where(path)}: {exc.detail}", excel + exc.convert_hint(path)
        ) from None
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl(text, path)
    if suffix in (".csv", ".tsv"):
        return _csv(text, path, "\t" if suffix == ".tsv" else ",")
    if suffix in (".md", ".markdown"):
        return _markdown(text, path)
    raise FileError(
        f"{path}: unknown input format {suffix or '(no suffix)'}",
        hint="Use .jsonl, .csv or .md (see `interviewer grade --help`).",
    )


TEXT_FIELDS = ("answer", "question_id", "question", "reference")


def row_error(line: int, problem: str, row_id: str | None = None) -> RowError:
    """The error row for `line`: its own id when it gives one, else "line N", which no
    other row's default id can be (a default is the row's own line number, or "line N"
    for its own line)."""
    return RowError(id=row_id or f"line {line}", line=line, error=f"line {line}: {problem}")


def _row(data: Any, line: int) -> Parsed:
    if not isinstance(data, dict):
        return row_error(line, "expected an object")
    fields = {k.strip().lower(): v for k, v in data.items() if isinstance(k, str)}
    fields = {k: (None if v == "" else v) for k, v in fields.items()}
    given = _given_id(fields.pop("id", None), line)
    if isinstance(given, RowError):
        return given
    problem = _problem(fields)
    if problem is None:
        try:
            known = {k: v for k, v in fields.items() if k in Row.model_fields and k != "line"}
            row = Row(id=str(line) if given is None else given, line=line, **known)
            row._default_id = given is None
        except (ValidationError, ValueError, RecursionError) as exc:
            problem = _first_error(exc)
        else:
            bad = _unencodable_field(row)
            if bad is None:
                return row
            problem = f"`{bad}` holds a lone surrogate (\\ud800-\\udfff), which is not text"
    return row_error(line, problem, given)


def _given_id(raw_id: Any, line: int) -> str | RowError | None:
    """The row's own id as text, None when it gives none, or the error row it makes."""
    if raw_id is None:
        return None
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        return row_error(line, f"`id` must be a string or a whole number, not {_kind(raw_id)}")
    row_id = str(raw_id)
    if not _encodable(row_id):
        return RowError(
            id=printable(row_id),
            line=line,
            error=f"line {line}: `id` holds a lone surrogate (\\ud800-\\udfff), which is not "
            "text; fix the id",
        )
    return row_id


def _problem(fields: dict[str, Any]) -> str | None:
    """What makes the fields unusable as a row before they are validated, if anything."""
    if fields.get("answer") is None:
        return "no `answer`"
    for name in TEXT_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            return f"`{name}` must be a string, not {_kind(value)}"
    if not any(
        fields.get(k) for k in ("question_id", "question", "key_points", "reference", "references")
    ):
        return (
            "give `question_id`, or `question` with or without "
            "`key_points` / `reference` / `references`"
        )
    return None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with any lone surrogate replaced by U+FFFD, so that it can be written."""
    return _SURROGATE.sub("\ufffd", text)


def _unencodable_field(row: Row) -> str | None:
    for name in ("answer", "question_id", "question", "reference"):
        value = getattr(row, name)
        if value is not None and not _encodable(value):
            return name
    for name, values in (
        ("key_points", [k.text for k in row.key_points or []]),
        ("references", row.references or []),
    ):
        if not all(_encodable(v) for v in values):
            return name
    return None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "a value is nested too deeply"
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        return f"{where}: {err['msg']}"
    return str(exc)


_LINE_END = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[str]:
    """The file's lines: split at "\n", "\r\n" or "\r" only, never at U+2028, U+2029 or the
    other characters `str.splitlines` also takes for line ends (a JSON string may hold
    those raw, but never a raw CR or LF)."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _jsonl(text: str, path: Path) -> list[Parsed]:
    rows: list[Parsed] = []
    for number, line in enumerate(_lines(text), 1):
        line = line.lstrip("\ufeff")  # files joined with `cat` keep each one's BOM
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(row_error(number, f"not JSON ({exc.msg})"))
            continue
        except RecursionError:
            rows.append(row_error(number, "not usable JSON (a value is nested too deeply)"))
            continue
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            rows.append(row_error(number, str(exc)))
            continue
        rows.append(_row(data, number))
    if not rows:
        raise FileError(
            f"{path}: the file has no rows (it is empty or blank)",
            hint='Write one JSON object a line, e.g. {"id": "a1", "question_id": "...", '
            '"answer": "..."}.',
        )
    return rows


def _defaults_give_way(rows: list[Parsed]) -> list[Parsed]:
    """A row without an id whose line number another row gives as its id (before or after
    it) takes "line N" instead: otherwise it would take that id from the row that gave it,
    which `_repeated_ids` would then make an error row."""
    given = {r.id for r in rows if not (isinstance(r, Row) and r._default_id)}
    out: list[Parsed] = []
    for row in rows:
        if isinstance(row, Row) and row._default_id and row.id in given:
            row = row.model_copy(update={"id": _free_id(row.line, given)})
        out.append(row)
    return out


def _free_id(line: int, given: set[str]) -> str:
    """The id "line N", or, should a row give that as its own id too, "line N (2)" and so
    on: an id no row gives."""
    row_id, n = f"line {line}", 1
    while row_id in given:
        n += 1
        row_id = f"line {line} ({n})"
    return row_id


def _repeated_ids(rows: list[Parsed]) -> list[Parsed]:
    """A row whose id an earlier row (an error row too) already used becomes an error row
    naming both lines: at most one row of an id is graded (the error rows keep the ids
    they give, so the results may repeat an id, each with its line)."""
    first: dict[str, int] = {}
    out: list[Parsed] = []
    for row in rows:
        if isinstance(row, Row) and row.id in first:
            row = RowError(
                id=row.id,
                line=row.line,
                error=f"line {row.line}: the id {row.id!r} was already used on line "
                f"{first[row.id]}; give each row its own id",
                repeats=first[row.id],
            )
        first.setdefault(row.id, row.line)
        out.append(row)
    return out


def _csv(text: str, path: Path, delimiter: str) -> list[Parsed]:
    records = _records(text, path, delimiter)
    if not records:
        raise FileError(f"{path}: the file is empty")
    header_line, header = records[0]
    if isinstance(header, csv.Error):
        raise FileError(
            f"{path}:{header_line}: cannot read the header ({header})",
            hint="Make the first line the column names, e.g. id,question_id,answer.",
        )
    names = _column_names(header, header_line, path)
    if len(records) == 1:
        raise FileError(
            f"{path}:{header_line}: a header and no rows below it",
            hint="Add one line for each answer under the header.",
        )
    return [_csv_row(values, names, line) for line, values in records[1:]]


Record = tuple[int, list[str] | csv.Error]  # the line a record starts on, and its fields


def _records(text: str, path: Path, delimiter: str) -> list[Record]:
    """The file's records that are not blank, each with the line it starts on. A file whose
    last record holds a quoted field never closed is refused: that field took in every line
    after its opening quote, so those rows cannot be told apart."""
    _lift_field_limit()
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines, delimiter=delimiter)
    records: list[Record] = []
    last = 1  # the line the last record read starts on
    while True:
        line = reader.line_num + 1
        try:
            values: list[str] | csv.Error = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            values = exc
        last = line
        if isinstance(values, csv.Error) or any(v.strip() for v in values):
            records.append((line, values))
    _check_quotes_closed("".join(lines[last - 1 :]), last, path, delimiter)
    return records


def _lift_field_limit() -> None:
    """Lift csv's cap on a field (131,072 characters): an answer over it is read whole, and
    graded on its first part and flagged `truncated`, as in JSONL."""
    try:
        csv.field_size_limit(sys.maxsize)
    except OverflowError:  # where a C long is 32 bits (Windows)
        csv.field_size_limit(2**31 - 1)


# A quoted field, as csv.reader reads one: "" inside it is a quote; possessive, so that a
# field whose last quote is doubled is not taken for a closed one.
_QUOTED = re.compile(r'"(?:[^"]++|"")*+"')


def _check_quotes_closed(record: str, line: int, path: Path, delimiter: str) -> None:
    """Refuse the file if `record` (the text of its last record, which starts on `line`)
    holds a quoted field that is never closed, naming the line its quote opens on."""
    opened = _open_quote(record, delimiter)
    if opened is None:
        return
    line += len(_LINE_END.findall(record, 0, opened))
    raise FileError(
        f"{path}:{line}: a quoted field opens here and is never closed, so it takes in "
        "every line after it",
        hint='Close the quote (add the missing "), or, inside a quoted field, write a quote '
        'as two ("").',
    )


def _open_quote(record: str, delimiter: str) -> int | None:
    """Where a quoted field that is never closed opens in `record` (text that starts at the
    start of a CSV record), or None. As csv.reader: a quote opens a field only as its first
    character, and text after the closing quote is part of the field."""
    field_end = re.compile(f"[{re.escape(delimiter)}\r\n]")
    at = 0
    while at < len(record):
        if record[at] == '"':
            quoted = _QUOTED.match(record, at)
            if quoted is None:
                return at
            at = quoted.end()
        end = field_end.search(record, at)
        at = end.end() if end else len(record)
    return None


def _column_names(header: list[str], line: int, path: Path) -> list[str]:
    names = [h.strip().lower() for h in header]
    if "answer" not in names:
        raise FileError(
            f"{path}:{line}: no `answer` column (columns: {', '.join(names)})",
            hint="The header needs `answer` and one of question_id, question, key_points.",
        )
    used = {"id", *Row.model_fields} - {"line"}
    twice = next((n for i, n in enumerate(names) if n in used and n in names[:i]), None)
    if twice is not None:
        raise FileError(
            f"{path}:{line}: the column `{twice}` is named twice",
            hint="Rename or remove one of the two columns; only one can be read.",
        )
    return names


def _csv_row(values: list[str] | csv.Error, names: list[str], line: int) -> Parsed:
    if isinstance(values, csv.Error):
        return row_error(line, str(values))
    if len(values) > len(names):
        given = values[names.index("id")] if "id" in names else ""  # as _row reads it
        problem = (
            f"{len(values)} fields but {len(names)} columns (quote fields that contain commas)"
        )
        return row_error(line, problem, given)
    return _row(dict(zip(names, values, strict=False)), line)


_HEADING = re.compile(r"^##(?:\s+(.*?)\s*#*)?\s*$")  # "##" alone too: a heading with no text
# CommonMark's code fences: up to 3 spaces, then 3 or more ` (with no ` after them on the
# line) or ~; a fence closes on a line of the same character alone, at least as many.
_FENCE_OPEN = re.compile(r" {0,3}(`{3,}(?!.*`)|~{3,})")
_FENCE_CLOSE = re.compile(r" {0,3}(`+|~+)[ \t]*$")


def _fence_after(line: str, fence: str | None) -> str | None:
    """The code fence open after `line` (its run of ` or ~), given the one open before it:
    a `## ` line inside a fence is code, such as a Python comment, not a question."""
    if fence is None:
        opened = _FENCE_OPEN.match(line)
        return opened.group(1) if opened else None
    closed = _FENCE_CLOSE.match(line)
    if closed and closed.group(1)[0] == fence[0] and len(closed.group(1)) >= len(fence):
        return None
    return fence


def _markdown(text: str, path: Path) -> list[Parsed]:
    rows: list[Parsed] = []
    question: str | None = None
    start = 0
    body: list[str] = []

    def flush() -> None:
        if question is None:
            return
        answer = "\n".join(body).strip()
        index = len(rows) + 1
        if not question:
            error = f"line {start}: a `##` heading with no question; write it after the `## `"
            rows.append(RowError(id=str(index), line=start, error=error))
        elif not answer:
            rows.append(RowError(id=str(index), line=start, error=f"line {start}: no answer"))
        else:
            rows.append(Row(id=str(index), line=start, answer=answer, question=question))

    fence: str | None = None  # the code fence open, if any: it runs to the end unless closed
    for number, line in enumerate(_lines(text), 1):
        match = None if fence else _HEADING.match(line)
        if match:
            flush()
            question, start, body = match.group(1) or "", number, []
            continue
        fence = _fence_after(line, fence)
        if question is not None:
            body.append(line)
    flush()
    if not rows:
        raise FileError(
            f"{path}: no `## question` headings",
            hint="Write each question as a `## ` heading with its answer below it.",
        )
    return rows
