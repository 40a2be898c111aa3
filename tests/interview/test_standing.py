"""The typed standing the screens read: the graph's real state after each step, as the
transcript's models, agreeing with the dicts it was built from."""

from __future__ import annotations

import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.interview import explain
from interviewer.interview.context import InterviewContext
from interviewer.interview.standing import Standing, running, standing_of
from interviewer.judge import progress
from interviewer.judge.schema import Grade
from interviewer.transcript.schema import Current, Turn
from tests.conftest import REPO
from tests.interview.test_graph import STRONG_LORA, graph_for, send, start

QID = "lora-principle"


@pytest.fixture(scope="module")
def lora_bank() -> Bank:
    return load_bank(REPO / "tests" / "data" / "bank")


def test_standing_follows_the_interview(lora_bank: Bank) -> None:
    graph = graph_for(lora_bank)
    ctx = InterviewContext(questions=1, topics=["lora"], seed=0, follow_up_limit=1)
    rubric = lora_bank.rubric(QID)
    config, values = start(graph, ctx)

    asked = standing_of(values)
    assert isinstance(asked.current, Current) and asked.current.question_id == QID
    assert asked.shown is asked.current and asked.current.attempts == []
    assert asked.last_graded is None and asked.asked == 1 and not asked.done
    assert running(rubric, asked.current) is None
    assert explain.explain(asked, lora_bank, "zh", "practice") == explain.NOT_YET["zh"]

    values = send(graph, config, ctx, "answer", "LoRA 把 ΔW 写成 B 乘 A。")
    answered = standing_of(values)
    current = answered.current
    assert current is not None and len(current.attempts) == 1
    assert isinstance(current.attempts[0].grade, Grade)
    assert current.attempts[0].grade.model_dump() == values["current"]["attempts"][0]["grade"]
    assert answered.last_graded is current
    # The panel's running grade is the graph's rule over the typed grades.
    step = running(rubric, current)
    raw = [Grade.model_validate(a["grade"]) for a in values["current"]["attempts"]]
    expected = progress.latest(rubric, raw, values["current"]["hinted"], "")
    assert step is not None and expected is not None and step.merged == expected.merged
    found = explain.explain(answered, lora_bank, "en", "practice")
    assert isinstance(found, explain.Explanation)
    assert [p.verdict for p in found.points] == [v.verdict for v in step.merged.verdicts]
    # In exam mode nothing is explained before the end.
    assert explain.explain(answered, lora_bank, "en", "exam") == explain.EXAM["en"]

    while not values.get("done"):
        values = send(graph, config, ctx, "answer", STRONG_LORA)
    done = standing_of(values)
    assert done.done and done.current is None and done.asked == 1
    assert [type(t) for t in done.finished] == [Turn]
    turn = done.finished[0]
    assert turn.merged.model_dump() == values["finished"][0]["merged"]
    assert done.shown is turn and done.last_graded is turn
    assert done.report is not None
    assert done.report.overall == values["report"]["overall"]
    assert [q.question_id for q in done.report.questions] == [QID]
    found = explain.explain(done, lora_bank, "en", "exam")  # (the end: shown in exam mode too)
    assert isinstance(found, explain.Explanation)
    assert [p.verdict for p in found.points] == [v.verdict for v in turn.merged.verdicts]


def test_an_empty_state_stands_nowhere() -> None:
    empty = standing_of({})
    assert empty == Standing() and empty.shown is None and empty.last_graded is None
