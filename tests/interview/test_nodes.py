"""The graph's nodes called alone: a hand-made state, `Runtime(context=...)`, and a judge
that returns the verdicts the test chooses (no graph, no checkpointer)."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.runtime import Runtime

from interviewer.bank.loader import Bank, load_bank
from interviewer.bank.schema import Question, Rubric
from interviewer.interview import nodes
from interviewer.interview.context import InterviewContext
from interviewer.interview.nodes import Deps
from interviewer.interview.opening import msg
from interviewer.interview.personas import persona
from interviewer.interview.state import Current, InterviewState
from interviewer.interview.voice import ScriptedVoice
from interviewer.judge.schema import Grade, Verdict
from tests.conftest import REPO

KEY_POINTS = [
    "low-rank-update",
    "frozen-base",
    "trainable-params",
    "init-scaling",
    "target-modules",
    "merge-no-latency",
]


class FixedJudge:
    """Grades every answer with the verdicts it was given (others missed)."""

    spec = "fixed"

    def __init__(self, covered: set[str], flags: list[str] | None = None) -> None:
        self.covered = covered
        self.flags = flags or []
        self.answers: list[str] = []

    def grade(self, question: Question, rubric: Rubric, answer: str) -> Grade:
        self.answers.append(answer)
        verdicts = [
            Verdict(key_point=kp.id, verdict="covered" if kp.id in self.covered else "missed")
            for kp in rubric.key_points
        ]
        return Grade(verdicts=verdicts, score=0, judge=self.spec, flags=self.flags)

    async def agrade(self, question: Question, rubric: Rubric, answer: str) -> Grade:
        return self.grade(question, rubric, answer)


@pytest.fixture(scope="module")
def bank() -> Bank:
    """The one-question test bank: `lora` with lora-principle."""
    return load_bank(REPO / "tests" / "data" / "bank")


def deps_for(bank: Bank, judge: FixedJudge) -> Deps:
    return Deps(
        bank=bank,
        judge_for=lambda spec: judge,
        voice_for=lambda ctx: ScriptedVoice(persona(ctx.persona)),
    )


def runtime(chunks: list[str] | None = None, **settings: Any) -> Runtime[InterviewContext]:
    ctx = InterviewContext(**{"topics": ["lora"], "lang": "zh", **settings})
    if chunks is None:
        return Runtime(context=ctx)
    return Runtime(context=ctx, stream_writer=lambda part: chunks.append(part["chunk"]))


def current(**changes: Any) -> Current:
    base: Current = {
        "question_id": "lora-principle",
        "attempts": [],
        "probed": [],
        "hinted": [],
        "dont_know": False,
        "off_topic": 0,
        "pending_probe": None,
        "started": "2026-12-05T09:00:00+00:00",
    }
    return {**base, **changes}  # type: ignore[typeddict-item]


def answered(bank: Bank, judge: FixedJudge, answer: str, **settings: Any) -> InterviewState:
    """The state after `grade` took `answer` to the question."""
    state: InterviewState = {
        "current": current(),
        "messages": [
            msg("interviewer", "讲讲 LoRA？", "question"),
            msg("candidate", answer, "answer"),
        ],
    }
    update = nodes.grade(state, runtime(**settings), deps=deps_for(bank, judge))
    return {**state, "current": update["current"], "messages": state["messages"]}


def test_select_picks_a_question_until_the_interview_has_its_count(bank: Bank) -> None:
    deps = deps_for(bank, FixedJudge(set()))
    update = nodes.select({"asked": [], "finished": []}, runtime(questions=1), deps=deps)
    assert update["current"]["question_id"] == "lora-principle"
    assert update["asked"] == ["lora-principle"]
    full = nodes.select({"finished": [{}]}, runtime(questions=1), deps=deps)  # type: ignore[list-item]
    assert full == {"current": None}
    # The pool is empty once its only question was asked.
    empty = nodes.select({"asked": ["lora-principle"]}, runtime(questions=2), deps=deps)
    assert empty == {"current": None}


def test_grade_records_the_attempt_and_in_practice_shows_the_running_grade(bank: Bank) -> None:
    judge = FixedJudge({"low-rank-update", "frozen-base"})
    state: InterviewState = {
        "current": current(),
        "messages": [
            msg("interviewer", "讲讲 LoRA？", "question"),
            msg("candidate", "低秩", "answer"),
        ],
        "truncated": True,
    }
    update = nodes.grade(state, runtime(mode="practice"), deps=deps_for(bank, judge))
    attempt = update["current"]["attempts"][0]
    assert judge.answers == ["低秩"]
    assert attempt["prompt"] == "讲讲 LoRA？" and attempt["answer"] == "低秩"
    assert "truncated" in attempt["grade"]["flags"]  # the cut answer is flagged
    [note] = update["messages"]
    assert note["kind"] == "grade" and "本题得分" in note["text"]
    exam = nodes.grade(state, runtime(mode="exam"), deps=deps_for(bank, judge))
    assert exam["messages"] == []  # exam mode grades silently


def test_decide_probes_a_missed_point_and_stops_after_i_dont_know(bank: Bank) -> None:
    judge = FixedJudge({"low-rank-update"})
    deps = deps_for(bank, judge)
    state = answered(bank, judge, "低秩分解。")
    assert nodes.decide(state, runtime(follow_up_limit=2), deps=deps) == {"action": "follow_up"}
    assert nodes.decide(state, runtime(follow_up_limit=0), deps=deps) == {"action": "next"}
    dont_know = answered(bank, judge, "不知道")
    assert dont_know["current"] is not None and dont_know["current"]["dont_know"]
    assert nodes.decide(dont_know, runtime(follow_up_limit=2), deps=deps) == {"action": "next"}
    everything = FixedJudge(set(KEY_POINTS))
    full = answered(bank, everything, "全部要点。")
    assert nodes.decide(full, runtime(follow_up_limit=2), deps=deps_for(bank, everything)) == {
        "action": "next"
    }


def test_follow_up_names_one_missed_point_and_streams_its_words(bank: Bank) -> None:
    judge = FixedJudge({"low-rank-update", "frozen-base"})
    state = answered(bank, judge, "低秩分解，冻结原权重。")
    chunks: list[str] = []
    update = nodes.follow_up(state, runtime(chunks, follow_up_limit=2), deps=deps_for(bank, judge))
    probed = update["current"]["probed"]
    assert len(probed) == 1 and probed[0] not in judge.covered
    assert update["current"]["pending_probe"] == probed[0]
    [question] = update["messages"]
    assert question["kind"] == "follow_up" and question["text"]
    assert "".join(chunks).strip() == question["text"].strip()


def test_hint_caps_a_point_in_practice_and_is_refused_in_exam(bank: Bank) -> None:
    judge = FixedJudge(set())
    state = answered(bank, judge, "不太确定。")
    deps = deps_for(bank, judge)
    exam = nodes.hint(state, runtime(mode="exam"), deps=deps)
    assert exam["messages"][0]["text"] == "考试模式没有提示。"
    practice = nodes.hint(state, runtime(mode="practice"), deps=deps)
    assert len(practice["current"]["hinted"]) == 1
    assert practice["messages"][0]["kind"] == "hint"


def test_skip_counts_only_an_unanswered_question_as_skipped(bank: Bank) -> None:
    judge = FixedJudge({"low-rank-update"})
    deps = deps_for(bank, judge)
    fresh: InterviewState = {"current": current(), "messages": [], "finished": []}
    skipped = nodes.skip(fresh, runtime(), deps=deps)
    assert skipped["finished"][0]["skipped"] is True and skipped["current"] is None
    after_answer = answered(bank, judge, "低秩分解。")
    moved_on = nodes.skip({**after_answer, "finished": []}, runtime(), deps=deps)
    assert moved_on["finished"][0]["skipped"] is False
    assert moved_on["finished"][0]["score"] > 0


def test_wrap_up_finishes_the_open_question_and_reports(bank: Bank) -> None:
    judge = FixedJudge(set(KEY_POINTS))
    state = answered(bank, judge, "全部要点。")
    update = nodes.wrap_up({**state, "finished": []}, runtime(), deps=deps_for(bank, judge))
    assert update["done"] is True and update["current"] is None
    assert [f["question_id"] for f in update["finished"]] == ["lora-principle"]
    assert update["report"]["overall"] == 100
    assert update["messages"][-1]["kind"] == "closing"


@pytest.mark.parametrize(
    ("action", "route"),
    [
        ("answer", "grade"),
        ("hint", "hint"),
        ("repeat", "repeat"),
        ("skip", "skip"),
        ("quit", "wrap_up"),
        ("nonsense", "grade"),
    ],
)
def test_after_answer_routes_every_action(action: str, route: str) -> None:
    assert nodes.after_answer({"action": action}) == route


def test_a_context_setting_it_does_not_know_is_an_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="follow_ups"):
        InterviewContext(follow_ups=0)  # type: ignore[call-arg]  # (it is follow_up_limit)
