"""Batch input: JSONL, CSV and Markdown, read into rows that remember their line.

Columns (JSONL keys or CSV headers), per DESIGN.md:
- `id` (optional; a string or a whole number, defaults to the line number; an id used by
  an earlier row makes this row an error row), `answer` (required, a string);
- `question_id` (a bank question), or `question` (text) with optional `key_points` (a list
  of strings or of {"text", "weight"}; in CSV a JSON list, or items separated by " | ")
  and/or `reference` (a reference answer) and/or `references` (a JSON list of reference
  answers; the answer is graded against each and the best grade is kept);
- `max_score` (optional): results also carry the score on that scale.
Markdown: each `## heading` is a question; the text under it, up to the next heading, is
the answer. A row that cannot be used becomes an error row that names its line; the file
as a whole is only refused when it cannot be read at all. Lines end at "\n", "\r\n" or
"\r", never at the other characters `str.splitlines` treats as line ends (U+2028...).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from interviewer.errors import InterviewerError
from interviewer.judge.adhoc import AdhocKeyPoint


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
                value = [p.strip() for p in re.split(r"\s\|\s|\n", text) if p.strip()]
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
    rows = _parse(raw, path)
    return _repeated_ids(rows)


def _parse(raw: bytes, path: Path) -> list[Parsed]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileError(
            f"{path}:{line}: the file is not UTF-8 (byte 0x{raw[exc.start]:02x})",
            hint="Save it as UTF-8 (in Excel: 'CSV UTF-8'), or convert it: "
            "iconv -f GBK -t UTF-8 in.csv > out.csv",
        ) from None
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl(text)
    if suffix in (".csv", ".tsv"):
        return _csv(text, path, "\t" if suffix == ".tsv" else ",")
    if suffix in (".md", ".markdown"):
        return _markdown(text, path)
    raise FileError(
        f"{path}: unknown input format {suffix or '(no suffix)'}",
        hint="Use .jsonl, .csv or .md (see `interviewer grade --help`).",
    )


TEXT_FIELDS = ("answer", "question_id", "question", "reference")


def _row(data: Any, line: int) -> Parsed:
    fallback_id = str(line)
    if not isinstance(data, dict):
        return RowError(id=fallback_id, line=line, error=f"line {line}: expected an object")
    fields = {k.strip().lower(): v for k, v in data.items() if isinstance(k, str)}
    fields = {k: (None if v == "" else v) for k, v in fields.items()}
    raw_id = fields.pop("id", None)
    if raw_id is None:
        row_id = fallback_id
    elif isinstance(raw_id, str) or (isinstance(raw_id, int) and not isinstance(raw_id, bool)):
        row_id = str(raw_id)
    else:
        return RowError(
            id=fallback_id,
            line=line,
            error=f"line {line}: `id` must be a string or a whole number, not {_kind(raw_id)}",
        )
    if not _encodable(row_id):
        return RowError(
            id=printable(row_id),
            line=line,
            error=f"line {line}: `id` holds a lone surrogate (\\ud800-\\udfff), which is not "
            "text; fix the id",
        )
    if fields.get("answer") is None:
        return RowError(id=row_id, line=line, error=f"line {line}: no `answer`")
    for name in TEXT_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            return RowError(
                id=row_id,
                line=line,
                error=f"line {line}: `{name}` must be a string, not {_kind(value)}",
            )
    if not any(
        fields.get(k) for k in ("question_id", "question", "key_points", "reference", "references")
    ):
        return RowError(
            id=row_id,
            line=line,
            error=f"line {line}: give `question_id`, or `question` with or without "
            "`key_points` / `reference` / `references`",
        )
    try:
        known = {k: v for k, v in fields.items() if k in Row.model_fields}
        row = Row(id=row_id, line=line, **known)
    except (ValidationError, ValueError, RecursionError) as exc:
        return RowError(id=row_id, line=line, error=f"line {line}: {_first_error(exc)}")
    bad = _unencodable_field(row)
    if bad:
        return RowError(
            id=row_id,
            line=line,
            error=f"line {line}: `{bad}` holds a lone surrogate (\\ud800-\\udfff), which is "
            "not text",
        )
    return row


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


def _jsonl(text: str) -> list[Parsed]:
    rows: list[Parsed] = []
    for number, line in enumerate(_lines(text), 1):
        line = line.lstrip("\ufeff")  # files joined with `cat` keep each one's BOM
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(
                RowError(id=str(number), line=number, error=f"line {number}: not JSON ({exc.msg})")
            )
            continue
        except RecursionError:
            rows.append(
                RowError(
                    id=str(number),
                    line=number,
                    error=f"line {number}: not usable JSON (a value is nested too deeply)",
                )
            )
            continue
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            rows.append(RowError(id=str(number), line=number, error=f"line {number}: {exc}"))
            continue
        rows.append(_row(data, number))
    return rows


def _repeated_ids(rows: list[Parsed]) -> list[Parsed]:
    """A row whose id an earlier row already used becomes an error row naming both lines."""
    first: dict[str, int] = {}
    out: list[Parsed] = []
    for row in rows:
        if isinstance(row, Row):
            if row.id in first:
                row = RowError(
                    id=row.id,
                    line=row.line,
                    error=f"line {row.line}: the id {row.id!r} was already used on line "
                    f"{first[row.id]}; give each row its own id",
                    repeats=first[row.id],
                )
            else:
                first[row.id] = row.line
        out.append(row)
    return out


def _csv(text: str, path: Path, delimiter: str) -> list[Parsed]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FileError(f"{path}: the file is empty") from None
    names = [h.strip().lower() for h in header]
    if "answer" not in names:
        raise FileError(
            f"{path}:1: no `answer` column (columns: {', '.join(names)})",
            hint="The header needs `answer` and one of question_id, question, key_points.",
        )
    rows: list[Parsed] = []
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append(RowError(id=str(line), line=line, error=f"line {line}: {exc}"))
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(names):
            rows.append(
                RowError(
                    id=str(line),
                    line=line,
                    error=f"line {line}: {len(values)} fields but {len(names)} columns "
                    "(quote fields that contain commas)",
                )
            )
            continue
        rows.append(_row(dict(zip(names, values, strict=False)), line))
    return rows


_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")


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
        if not answer:
            rows.append(RowError(id=str(index), line=start, error=f"line {start}: no answer"))
        else:
            rows.append(Row(id=str(index), line=start, answer=answer, question=question))

    for number, line in enumerate(_lines(text), 1):
        match = _HEADING.match(line)
        if match:
            flush()
            question, start, body = match.group(1), number, []
        elif question is not None:
            body.append(line)
    flush()
    if not rows:
        raise FileError(
            f"{path}: no `## question` headings",
            hint="Write each question as a `## ` heading with its answer below it.",
        )
    return rows
