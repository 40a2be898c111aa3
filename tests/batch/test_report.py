"""Batch outputs: strict JSON, a row that cannot be written becomes an error row, CSV cells
that a spreadsheet would run as formulas are quoted, and every output is written whole or not
at all."""

from __future__ import annotations

import csv
import errno
import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from interviewer.batch.report import (
    html_report,
    markdown_report,
    write_csv,
    write_jsonl,
    write_report,
)
from interviewer.batch.runner import BatchResult, VerdictOut


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


def _report(results: list[BatchResult], path: Path) -> None:
    write_report(results, "answers.jsonl", path)


WRITERS: dict[str, Callable[[list[BatchResult], Path], None]] = {
    "results.jsonl": write_jsonl,
    "results.csv": write_csv,
    "report.md": _report,
    "report.html": _report,
}
EARLIER = [BatchResult(id="earlier", line=1, score=90.0)]
LATER = [BatchResult(id=f"row-{i}", line=i + 1, score=float(i), flags=["x"]) for i in range(200)]


class FullDisk:
    """A file that takes `room` bytes, then fails as a full disk does."""

    def __init__(self, f: Any, room: int, written: list[bytes]) -> None:
        self.f, self.room, self.written = f, room, written

    def write(self, data: bytes) -> int:
        self.f.write(data[: self.room])
        self.f.flush()
        self.written.append(data[: self.room])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


@pytest.mark.parametrize("failure", ["disk full mid-write", "rename"])
@pytest.mark.parametrize("name", WRITERS)
def test_a_write_that_fails_leaves_the_previous_file_whole_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, failure: str
) -> None:
    target = tmp_path / name
    WRITERS[name](EARLIER, target)
    before = target.read_bytes()
    written: list[bytes] = []
    with monkeypatch.context() as patched:
        if failure == "rename":

            def refuse(src: object, dst: object) -> None:
                raise OSError(errno.EIO, os.strerror(errno.EIO))

            patched.setattr(os, "replace", refuse)
        else:
            real_fdopen = os.fdopen
            patched.setattr(
                os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k), 100, written)
            )
        with pytest.raises(OSError):
            WRITERS[name](LATER, target)
    assert failure == "rename" or [len(w) for w in written] == [100]  # torn, then refused
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_outputs_have_the_same_bytes_as_before_and_are_private(tmp_path: Path) -> None:
    results = [
        BatchResult(
            id='a,"b"',
            line=1,
            question_id="q",
            score=50.0,
            scaled_score=5.0,
            verdicts=[VerdictOut(key_point="k", verdict="covered", evidence="e")],
            misconceptions=["m1", "m2"],
            flags=["f"],
            judge="offline",
        ),
        BatchResult(id="中文", line=2, error="line 2: x"),
    ]
    for name in WRITERS:
        WRITERS[name](results, tmp_path / name)
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600  # it holds answers
    assert (tmp_path / "results.csv").read_bytes() == (
        "\ufeffid,line,question_id,score,scaled_score,covered,partial,missed,misconceptions,"
        "flags,judge,error\r\n"
        '"a,""b""",1,q,50.0,5.0,1,0,0,m1;m2,f,offline,\r\n'
        "中文,2,,,,0,0,0,,,,line 2: x\r\n"
    ).encode("utf-8")  # a byte-order mark for Excel, CRLF rows: as written in place before
    assert strict_rows(tmp_path / "results.jsonl")[1] == {
        "id": "中文", "line": 2, "verdicts": [], "misconceptions": [], "flags": [], "error": "line 2: x"
    }  # fmt: skip
    markdown = markdown_report(results, "answers.jsonl")
    assert (tmp_path / "report.md").read_bytes() == markdown.encode("utf-8")
    html = html_report(results, "answers.jsonl")
    assert (tmp_path / "report.html").read_bytes() == html.encode("utf-8")


def test_an_output_through_a_symlink_replaces_the_file_it_points_to(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    real = tmp_path / "shared" / "results.csv"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "results.csv"
    link.symlink_to(real)
    write_csv(EARLIER, link)
    assert link.is_symlink() and real.read_text(encoding="utf-8-sig").startswith("id,line")
