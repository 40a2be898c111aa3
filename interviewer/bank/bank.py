"""The loaded bank: questions in file order, one rubric per question, where each was written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from interviewer.bank.schema import Question, Rubric
from interviewer.errors import InterviewerError


@dataclass(frozen=True)
class Located:
    """Where a loaded object was written."""

    path: Path
    line: int


@dataclass
class Bank:
    """The loaded bank: questions in file order, one rubric per question."""

    root: Path
    questions: dict[str, Question] = field(default_factory=dict)
    rubrics: dict[str, Rubric] = field(default_factory=dict)
    where: dict[str, Located] = field(default_factory=dict)

    def question(self, question_id: str) -> Question:
        try:
            return self.questions[question_id]
        except KeyError:
            raise InterviewerError(
                f"no question with id {question_id!r} in the bank at {self.root}",
                hint="`interviewer bank list` shows the ids.",
            ) from None

    def rubric(self, question_id: str) -> Rubric:
        return self.rubrics[question_id]

    def topics(self) -> list[str]:
        return sorted({q.topic for q in self.questions.values()})

    def by_topic(self, topic: str | None = None) -> list[Question]:
        return [q for q in self.questions.values() if topic is None or q.topic == topic]


@cache
def inventory_ids() -> frozenset[str]:
    """Ids of the 63 distinct questions in the seed handbooks (see questions' inventory_ids)."""
    data = json.loads((Path(__file__).parent / "inventory.json").read_text(encoding="utf-8"))
    return frozenset(item["id"] for item in data)
