"""The interview graph with an in-memory saver: selection, follow-ups, merging, actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.interview.context import InterviewContext
from interviewer.interview.followup import next_probe, says_dont_know
from interviewer.interview.graph import MAX_ANSWER_CHARS, Deps, build_graph
from interviewer.interview.personas import persona
from interviewer.interview.selection import next_difficulty, select_question
from interviewer.interview.voice import ScriptedVoice
from interviewer.judge import offline_judge
from interviewer.judge.merge import merge
from interviewer.judge.schema import Grade, Verdict
from tests.conftest import REPO

STRONG_LORA = (
    "LoRA 假设权重更新是低秩的，把 ΔW 写成 B 乘 A；W0 冻结，只训练 A 和 B，"
    "可训练参数从 d*k 降到 r*(d+k)。推理时把 BA 合并回 W0，不增加延迟。"
)


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(REPO)


@pytest.fixture(scope="module")
def lora_bank() -> Bank:
    """The one-question test bank: a `lora` topic with exactly lora-principle in it."""
    return load_bank(REPO / "tests" / "data" / "bank")


def graph_for(bank: Bank) -> Any:
    judge = offline_judge()
    judge.learn_terms(list(bank.rubrics.values()))
    deps = Deps(
        bank=bank,
        judge_for=lambda spec: judge,
        voice_for=lambda ctx: ScriptedVoice(persona(ctx.persona)),
    )
    return build_graph(deps, InMemorySaver())


def start(
    graph: Any, ctx: InterviewContext, thread: str = "t"
) -> tuple[dict[str, Any], dict[str, Any]]:
    config = {"configurable": {"thread_id": thread}}
    initial = {
        "interview_id": thread,
        "settings": ctx.model_dump(),
        "messages": [],
        "finished": [],
        "asked": [],
        "done": False,
    }
    graph.invoke(initial, config, context=ctx)
    return config, graph.get_state(config).values


def send(
    graph: Any, config: dict[str, Any], ctx: InterviewContext, action: str, text: str = ""
) -> dict[str, Any]:
    graph.invoke(Command(resume={"action": action, "text": text}), config, context=ctx)
    return graph.get_state(config).values


# --- selection ------------------------------------------------------------------------------


def test_selection_is_reproducible_and_never_repeats(bank: Bank) -> None:
    picks = []
    for _ in range(2):
        asked: list[str] = []
        for _ in range(6):
            q = select_question(
                bank,
                topics=[],
                asked=asked,
                asked_topics=[bank.question(a).topic for a in asked],
                target_difficulty=2,
                seed=42,
            )
            assert q is not None and q.id not in asked
            asked.append(q.id)
        picks.append(asked)
    assert picks[0] == picks[1]
    other = select_question(
        bank, topics=[], asked=[], asked_topics=[], target_difficulty=2, seed=43
    )
    assert other is not None


def test_selection_spreads_topics_and_filters(bank: Bank) -> None:
    asked: list[str] = []
    for _ in range(4):
        q = select_question(
            bank,
            topics=[],
            asked=asked,
            asked_topics=[bank.question(a).topic for a in asked],
            target_difficulty=2,
            seed=1,
        )
        assert q is not None
        asked.append(q.id)
    assert len({bank.question(a).topic for a in asked}) == 4, "four questions, four topics"
    only = select_question(
        bank, topics=["coding"], asked=[], asked_topics=[], target_difficulty=1, seed=1
    )
    assert only is not None and only.topic == "coding"


def test_selection_follows_difficulty_and_focus(bank: Bank) -> None:
    q = select_question(
        bank, topics=["architecture"], asked=[], asked_topics=[], target_difficulty=3, seed=5
    )
    assert q is not None and q.difficulty == 3
    weak = select_question(
        bank, topics=[], asked=[], asked_topics=[], target_difficulty=2, seed=5, focus=["coding"]
    )
    assert weak is not None and weak.topic == "coding"
    assert (
        next_difficulty(2, 90) == 3 and next_difficulty(2, 20) == 1 and next_difficulty(2, 60) == 2
    )
    assert next_difficulty(3, 95) == 3 and next_difficulty(1, 0) == 1


def test_pool_exhausted_returns_none(bank: Bank) -> None:
    lora = [q.id for q in bank.by_topic("lora")]
    assert (
        select_question(
            bank, topics=["lora"], asked=lora, asked_topics=[], target_difficulty=2, seed=0
        )
        is None
    )


# --- follow-up policy and merging -----------------------------------------------------------


def test_merge_takes_the_best_verdict_and_caps_hints(bank: Bank) -> None:
    rubric = bank.rubric("lora-principle")
    first = Grade(
        verdicts=[Verdict(key_point="frozen-base", verdict="partial", evidence="W0 冻结")],
        score=0,
        judge="offline",
    )
    second = Grade(
        verdicts=[
            Verdict(key_point="frozen-base", verdict="covered", evidence="W0 冻结不动"),
            Verdict(key_point="merge-no-latency", verdict="covered", evidence="合并"),
        ],
        score=0,
        judge="offline",
    )
    merged = merge(rubric, [first, second], hinted=["merge-no-latency"], judge="offline")
    assert merged.verdict("frozen-base").verdict == "covered"
    assert merged.verdict("merge-no-latency").verdict == "partial", "a hinted key point is capped"
    assert merged.verdict("low-rank-update").verdict == "missed"
    assert "hint_used" in merged.flags
    assert merged.score == pytest.approx(100 * (3 + 1) / 12, abs=0.01)


def test_merge_keeps_the_finer_credit_and_caps_it_under_a_hint(bank: Bank) -> None:
    rubric = bank.rubric("lora-principle")
    first = Grade(
        verdicts=[
            Verdict(key_point="frozen-base", verdict="covered", evidence="W0 冻结", credit=0.8),
            Verdict(key_point="merge-no-latency", verdict="covered", evidence="合并", credit=0.9),
        ],
        score=0,
        judge="offline",
    )
    second = Grade(
        verdicts=[Verdict(key_point="frozen-base", verdict="covered", evidence="冻结", credit=1)],
        score=0,
        judge="offline",
    )
    merged = merge(rubric, [first, second], hinted=["merge-no-latency"], judge="offline")
    assert merged.verdict("frozen-base").credit == 1
    assert merged.verdict("merge-no-latency").credit == 0.5, "a hint caps the credit too"
    assert merged.score == pytest.approx(100 * (3 * 1 + 2 * 0.5) / 12, abs=0.01)


def test_next_probe_prefers_missed_then_weight_then_written(bank: Bank) -> None:
    rubric = bank.rubric("lora-principle")
    nothing = Grade(verdicts=[], score=0, judge="x")
    merged = merge(rubric, [nothing], [], "x")
    assert next_probe(rubric, merged, []).id == "low-rank-update"  # weight 3, first
    assert next_probe(rubric, merged, [], {"frozen-base"}).id == "frozen-base", (
        "a written follow-up breaks a tie in weight"
    )
    assert next_probe(rubric, merged, [], {"merge-no-latency"}).id == "low-rank-update", (
        "but weighs less than weight"
    )
    all_ids = [kp.id for kp in rubric.key_points]
    assert next_probe(rubric, merged, all_ids) is None


@pytest.mark.parametrize("text", ["不知道", "这个我不清楚", "I don't know", "no idea, sorry"])
def test_dont_know(text: str) -> None:
    assert says_dont_know(text)


def test_long_answer_is_not_dont_know() -> None:
    assert not says_dont_know(
        "我不知道具体数值，但 LoRA 的核心是把权重更新写成两个低秩矩阵的乘积，只训练这两个矩阵。"
    )


# --- the graph ------------------------------------------------------------------------------


def test_full_flow_with_follow_up_limit(lora_bank: Bank) -> None:
    graph = graph_for(lora_bank)
    ctx = InterviewContext(questions=1, topics=["lora"], seed=0, follow_up_limit=2)
    config, state = start(graph, ctx)
    assert state["current"]["question_id"] == "lora-principle"
    assert [m["kind"] for m in state["messages"]] == ["greeting", "question"]
    state = send(graph, config, ctx, "answer", "LoRA 冻结 W0，只训练 A 和 B 两个低秩矩阵。")
    assert state["messages"][-1]["kind"] == "follow_up"
    state = send(graph, config, ctx, "answer", "推理时把 BA 合并回 W0，不增加延迟。")
    assert state["messages"][-1]["kind"] == "follow_up"
    state = send(graph, config, ctx, "answer", "B 初始化为零，A 随机初始化。")
    # limit of 2 follow-ups reached: the question is finished and the interview wraps up
    assert state["done"] is True
    [done] = state["finished"]
    assert len(done["attempts"]) == 3
    probes = [a["probes"] for a in done["attempts"]]
    assert probes[0] is None and probes[1] and probes[2], "main answer, then two probes"
    merged = Grade.model_validate(done["merged"])
    assert merged.verdict("merge-no-latency").verdict != "missed", (
        "a follow-up answer upgrades its point"
    )
    assert state["report"]["overall"] == round(done["score"], 1)  # the report shows one decimal


def test_dont_know_stops_probing(lora_bank: Bank) -> None:
    graph = graph_for(lora_bank)
    ctx = InterviewContext(questions=1, topics=["lora"], seed=0)
    config, _ = start(graph, ctx)
    state = send(graph, config, ctx, "answer", "不知道")
    assert state["done"] is True
    assert len(state["finished"][0]["attempts"]) == 1


def test_strong_answer_needs_no_follow_up(lora_bank: Bank) -> None:
    graph = graph_for(lora_bank)
    ctx = InterviewContext(questions=1, topics=["lora"], seed=0, follow_up_limit=0)
    config, _ = start(graph, ctx)
    state = send(graph, config, ctx, "answer", STRONG_LORA)
    assert state["done"] and state["finished"][0]["score"] > 0


def test_hint_skip_repeat_quit(bank: Bank) -> None:
    graph = graph_for(bank)
    ctx = InterviewContext(questions=3, topics=["coding"], seed=2)
    config, state = start(graph, ctx)
    first = state["current"]["question_id"]
    state = send(graph, config, ctx, "repeat")
    assert state["messages"][-1]["kind"] == "repeat"
    state = send(graph, config, ctx, "hint")
    assert state["messages"][-1]["kind"] == "hint" and state["current"]["hinted"]
    state = send(graph, config, ctx, "skip")
    assert state["finished"][0]["question_id"] == first and state["finished"][0]["skipped"]
    assert state["current"]["question_id"] != first
    state = send(graph, config, ctx, "quit")
    assert state["done"] and len(state["finished"]) == 1, "an unanswered question is not recorded"


def test_exam_mode_shows_no_grades_or_hints(lora_bank: Bank) -> None:
    graph = graph_for(lora_bank)
    ctx = InterviewContext(questions=1, topics=["lora"], mode="exam", seed=0)
    config, _ = start(graph, ctx)
    state = send(graph, config, ctx, "hint")
    assert state["messages"][-1]["kind"] == "note" and not state["current"]["hinted"]
    state = send(graph, config, ctx, "answer", STRONG_LORA)
    assert all(m["kind"] != "grade" for m in state["messages"])


def test_await_answer_has_no_side_effects_before_interrupt(lora_bank: Bank, tmp_path: Path) -> None:
    """Resuming re-runs await_answer from the top: the state must not change by it."""
    graph = graph_for(lora_bank)
    ctx = InterviewContext(questions=1, topics=["lora"], seed=0)
    config, before = start(graph, ctx)
    graph.invoke(None, config, context=ctx)  # re-run up to the same interrupt
    after = graph.get_state(config).values
    assert after["messages"] == before["messages"]
    assert after["current"] == before["current"]


def test_an_answer_over_the_cap_is_cut_and_flagged(lora_bank: Bank) -> None:
    """A 1 MB paste is not passed whole to the judge: cut at MAX_ANSWER_CHARS, as in batch
    grading, and its grade says so."""
    graph = graph_for(lora_bank)
    ctx = InterviewContext(questions=1, topics=["lora"], seed=0, follow_up_limit=0)
    config, _ = start(graph, ctx)
    long = STRONG_LORA * (MAX_ANSWER_CHARS // len(STRONG_LORA) + 5)
    assert len(long) > MAX_ANSWER_CHARS
    state = send(graph, config, ctx, "answer", long)
    [attempt] = state["finished"][0]["attempts"]
    assert attempt["answer"] == long[:MAX_ANSWER_CHARS]
    assert "truncated" in attempt["grade"]["flags"]
    said = [m["text"] for m in state["messages"] if m["role"] == "candidate"]
    assert said == [long[:MAX_ANSWER_CHARS]]


def test_an_answer_under_the_cap_is_not_flagged(lora_bank: Bank) -> None:
    graph = graph_for(lora_bank)
    ctx = InterviewContext(questions=1, topics=["lora"], seed=0, follow_up_limit=0)
    config, _ = start(graph, ctx)
    state = send(graph, config, ctx, "answer", STRONG_LORA)
    [attempt] = state["finished"][0]["attempts"]
    assert attempt["answer"] == STRONG_LORA
    assert "truncated" not in attempt["grade"]["flags"]
