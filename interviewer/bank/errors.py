"""What is wrong with the bank, said as `path:line: message`, every problem at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from interviewer.errors import InterviewerError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in the bank, at a file and line (1-based; 0 when the file is missing)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class BankError(InterviewerError):
    """The bank (or one file of it) has problems; all of them are listed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(
            f"{lines}\n{count} problem{'s' if count != 1 else ''} in the bank.",
            hint="Fix each line above, then run `interviewer bank validate` again.",
        )


def display_path(path: Path, root: Path) -> str:
    """How a file is named in a Problem: relative to the bank's root when it is inside it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
