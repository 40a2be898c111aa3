"""Problems read as `path:line: message`; a BankError lists each once, in file and line order."""

from __future__ import annotations

from pathlib import Path

from interviewer.bank.errors import BankError, Problem, display_path
from interviewer.errors import InterviewerError


def test_a_problem_reads_as_path_line_message() -> None:
    assert str(Problem("rubrics/a.yaml", 7, "no sources")) == "rubrics/a.yaml:7: no sources"


def test_bank_error_lists_each_problem_once_in_file_and_line_order() -> None:
    late = Problem("questions/a.yaml", 10, "second")
    early = Problem("questions/a.yaml", 9, "first")
    other = Problem("rubrics/a.yaml", 1, "third")
    error = BankError([other, late, early, late])
    assert error.problems == [early, late, other]  # line 9 before 10: numbers, not text
    assert error.message == (
        "questions/a.yaml:9: first\n"
        "questions/a.yaml:10: second\n"
        "rubrics/a.yaml:1: third\n"
        "3 problems in the bank."
    )
    assert "interviewer bank validate" in error.hint
    assert isinstance(error, InterviewerError)  # so the CLI prints it and exits 2


def test_one_problem_is_counted_in_the_singular() -> None:
    error = BankError([Problem("q.yaml", 0, "cannot read the file: No such file or directory")])
    assert str(error).splitlines()[1] == "1 problem in the bank."


def test_files_are_named_from_the_bank_root_when_inside_it(tmp_path: Path) -> None:
    root = tmp_path / "bank"
    assert display_path(root / "rubrics" / "a.yaml", root) == "rubrics/a.yaml"
    outside = tmp_path / "elsewhere" / "a.yaml"
    assert display_path(outside, root) == str(outside)
