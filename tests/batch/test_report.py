"""Batch outputs: strict JSON, a row that cannot be written becomes an error row, CSV cells
that a spreadsheet would run as formulas are quoted."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from interviewer.batch.report import markdown_report, write_csv, write_jsonl
from interviewer.batch.runner import BatchResult


def strict_rows(path: Path) -> list[dict[str, object]]:
    def refuse(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    raw = path.read_bytes().decode("utf-8")  # strict: no lone surrogates
    assert raw.endswith("\n")
    return [json.loads(line, parse_constant=refuse) for line in raw.split("\n")[:-1]]


def test_a_result_that_cannot_be_written_becomes_an_error_row(tmp_path: Path) -> None:
    results = [
        BatchResult(id="ok", line=1, score=50.0),
        BatchResult(id="sur\udfff", line=2, score=40.0),
        BatchResult.model_construct(id="nan", line=3, score=math.nan, error=None),
        BatchResult.model_construct(id="inf", line=4, score=10.0, max_score=math.inf, error=None),
        BatchResult(id="last", line=5, score=70.0),
    ]
    out = tmp_path / "out.jsonl"
    write_jsonl(results, out)
    rows = strict_rows(out)
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["score"] == 50.0 and rows[0]["error"] is None
    assert rows[4]["score"] == 70.0 and rows[4]["error"] is None
    assert rows[1]["id"] == "sur\ufffd"
    for row in rows[1:4]:
        assert str(row["error"]).startswith(f"line {row['line']}: the result could not be written")
        assert "score" not in row
    assert not list(tmp_path.glob("*.tmp"))


def test_csv_cells_that_start_a_formula_are_quoted(tmp_path: Path) -> None:
    results = [
        BatchResult(id='=HYPERLINK("http://x","y")', line=1, score=50.0),
        BatchResult(id="+1", line=2, error="line 2: -bad"),
        BatchResult(id="@SUM(A1)", line=3, score=0.0, judge="\tx"),
        BatchResult(id="\rz", line=4, score=0.0),
        BatchResult(id="sur\udfff", line=5, score=0.0),
        BatchResult(id="plain-id", line=6, score=10.0),
    ]
    out = tmp_path / "out.csv"
    write_csv(results, out)
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == [
        '\'=HYPERLINK("http://x","y")',
        "'+1",
        "'@SUM(A1)",
        "'\rz",
        "sur\ufffd",
        "plain-id",
    ]
    assert rows[2]["judge"] == "'\tx"
    assert rows[1]["error"] == "line 2: -bad"  # only a cell's first character matters
    assert rows[0]["score"] == "50.0"


def test_the_report_is_written_even_with_a_lone_surrogate_in_an_id() -> None:
    text = markdown_report([BatchResult(id="a|b\udfff", line=1, score=5.0, flags=["empty"])], "x")
    text.encode("utf-8")
    assert "a\\|b\ufffd" in text
