"""Which question and rubric a batch row is graded against.

`question_id` names a bank question; `key_points` and/or `reference` make an ad-hoc
rubric (with several references, `reference` and `references` together, one rubric per
reference); question text alone is matched to the bank: an exact match of a prompt (after
normalisation) first, then the most similar prompt by meaning if it is close enough and
clearly the best. A row that matches nothing is an error row that says what to add.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interviewer.bank.bank import Bank
from interviewer.bank.schema import Question, Rubric
from interviewer.batch.inputs import Row
from interviewer.judge.adhoc import adhoc_rubric
from interviewer.judge.embed import Encoder
from interviewer.judge.normalize import comparable

MATCH_SIMILARITY = 0.8
MATCH_MARGIN = 0.03


class Unresolved(Exception):
    """The row names no question we can grade against; the message says why."""


@dataclass
class Resolver:
    bank: Bank
    encoder: Encoder
    _exact: dict[str, str] = field(default_factory=dict)
    _ids: list[str] = field(default_factory=list)
    _prompts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for q in self.bank.questions.values():
            for text in (q.prompt.zh, q.prompt.en):
                self._exact[comparable(text)] = q.id
                self._ids.append(q.id)
                self._prompts.append(text)

    def resolve_all(self, row: Row) -> list[tuple[Question, Rubric]]:
        """Every rubric to grade the row against: one per reference when it gives several."""
        references = row.all_references()
        if row.question_id or len(references) < 2:
            return [self.resolve(row)]
        return [adhoc_rubric(row.question or "", row.key_points, ref) for ref in references]

    def resolve(self, row: Row) -> tuple[Question, Rubric]:
        if row.question_id:
            if row.question_id not in self.bank.questions:
                raise Unresolved(
                    f"line {row.line}: no question with id {row.question_id!r} in the bank "
                    "(`interviewer bank list` shows them)"
                )
            return self.bank.question(row.question_id), self.bank.rubric(row.question_id)
        references = row.all_references()
        if row.key_points or references:
            return adhoc_rubric(
                row.question or "", row.key_points, references[0] if references else None
            )
        assert row.question is not None
        qid = self.match(row.question)
        if qid is None:
            raise Unresolved(
                f"line {row.line}: the question matches nothing in the bank; give "
                "`question_id`, or `key_points` / `reference` to grade against"
            )
        return self.bank.question(qid), self.bank.rubric(qid)

    def match(self, text: str) -> str | None:
        exact = self._exact.get(comparable(text))
        if exact:
            return exact
        sims = self.encoder.similarity([text], self._prompts)[0]
        best: dict[str, float] = {}
        for qid, sim in zip(self._ids, sims, strict=True):
            best[qid] = max(best.get(qid, -1.0), float(sim))
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        top_id, top = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else -1.0
        if top >= MATCH_SIMILARITY and top - runner_up >= MATCH_MARGIN:
            return top_id
        return None
