"""The running grade of a question (issue 14 item 1): what the log, panel, report, exports
and review show after each answer."""

from __future__ import annotations

import re

import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.interview.context import InterviewContext
from interviewer.judge import progress
from interviewer.judge.schema import Grade, Verdict
from interviewer.judge.scoring import score
from tests.conftest import REPO
from tests.interview.test_graph import graph_for, send, start

FIRST = "LoRA 的核心是低秩分解：把权重更新 ΔW 写成 BA 两个小矩阵的乘积，秩 r 很小。"
SECOND = "预训练权重 W0 冻结不动，只训练 A 和 B；推理时把 BA 合并回 W0，不增加推理延迟。"


@pytest.fixture(scope="module")
def lora_bank() -> Bank:
    return load_bank(REPO / "tests" / "data" / "bank")


def grade(bank: Bank, **verdicts: str) -> Grade:
    rubric = bank.rubric("lora-principle")
    vs = [Verdict(key_point=k, verdict=v) for k, v in verdicts.items()]  # type: ignore[arg-type]
    return Grade(verdicts=vs, score=score(rubric, vs, []), judge="t")


def test_a_follow_up_that_adds_a_point_never_lowers_the_grade(lora_bank: Bank) -> None:
    rubric = lora_bank.rubric("lora-principle")
    first = grade(lora_bank, **{"low-rank-update": "covered", "frozen-base": "partial"})
    # The follow-up's own grade is low (it says nothing of the first answer's points)...
    follow = grade(lora_bank, **{"merge-no-latency": "covered", "frozen-base": "missed"})
    assert follow.score < first.score
    steps = progress.running(rubric, [first, follow], [], "t")
    # ...but the question's grade counts both answers.
    assert steps[1].score > steps[0].score == first.score
    assert steps[1].gained == ("merge-no-latency",)
    assert steps[1].merged.verdict("low-rank-update").verdict == "covered"
    assert steps[1].added("en") == f"+1 key point, {steps[1].delta:+.0f}"
    assert steps[1].added("zh").startswith("+1 个要点")
    assert steps[0].gained == ("low-rank-update", "frozen-base")


def test_nothing_new_adds_nothing_and_hints_cap(lora_bank: Bank) -> None:
    rubric = lora_bank.rubric("lora-principle")
    first = grade(lora_bank, **{"low-rank-update": "covered"})
    steps = progress.running(rubric, [first, first], ["low-rank-update"], "t")
    assert steps[1].gained == () and steps[1].delta == 0
    assert steps[0].merged.verdict("low-rank-update").verdict == "partial", "hint cap"


def test_title_falls_back_to_a_short_text(lora_bank: Bank) -> None:
    kp = lora_bank.rubric("lora-principle").key_points[0]
    assert kp.title is None
    short = progress.title(kp, "zh")
    assert short and len(short) <= progress.TITLE_CHARS["zh"] + 1
    assert kp.text.zh.startswith(short.rstrip("…"))
    titled = load_bank(REPO).rubric("open-source-model-families").key_points[0]
    assert progress.title(titled, "en") == "architecture lineages"


def test_the_log_shows_the_question_grade_after_a_follow_up(lora_bank: Bank) -> None:
    graph = graph_for(lora_bank)
    ctx = InterviewContext(topics=["lora"], questions=1, follow_up_limit=2, seed=1)
    config, _ = start(graph, ctx)
    values = send(graph, config, ctx, "answer", FIRST)
    notes = [m["text"] for m in values["messages"] if m["kind"] == "grade"]
    first = float(re.search(r"本题得分: (\d+)/100", notes[-1]).group(1))  # type: ignore[union-attr]
    assert values["current"]["probed"], "a follow-up was asked"
    values = send(graph, config, ctx, "answer", SECOND)
    notes = [m["text"] for m in values["messages"] if m["kind"] == "grade"]
    head = notes[-1].splitlines()[0]
    second = float(re.search(r"本题得分: (\d+)/100", head).group(1))  # type: ignore[union-attr]
    own = values["current"]["attempts"][-1]["grade"]["score"]
    assert second > first and second > own, "the question's grade, not the follow-up's own"
    assert re.search(r"这次回答 \+[1-9]\d* 个要点", head), head
    rubric = lora_bank.rubric("lora-principle")
    assert not any(kp.text.zh in notes[-1] for kp in rubric.key_points), "titles, not answers"
