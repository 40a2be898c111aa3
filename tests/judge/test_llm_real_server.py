"""The LLM judge against a real OpenAI-compatible server: llama.cpp with SmolLM2-135M.

Shape, not quality: a 135M model grades badly. What must hold is the protocol: the reply is
schema-valid JSON, it ends with finish_reason "stop", every quote is checked against the
answer, and the grade validates.
"""

from __future__ import annotations

import pytest

from interviewer.bank.schema import Question, Rubric
from interviewer.config import load_settings
from interviewer.judge import make_judge
from interviewer.judge.llm import LLMJudge
from interviewer.judge.normalize import locate
from interviewer.judge.schema import Grade
from tests.judge.conftest import STRONG

pytestmark = pytest.mark.llm_server

ANSWERS = [
    STRONG,
    "LoRA freezes the pretrained weights and learns a low-rank update BA, "
    "so only r*(d+k) parameters per matrix are trained.",
]


def three_points(lora: tuple[Question, Rubric]) -> tuple[Question, Rubric]:
    """The LoRA rubric cut to three key points: a 135M model on two cores is slow."""
    q, r = lora
    return q, r.model_copy(update={"key_points": r.key_points[:3]})


@pytest.mark.parametrize("answer", ANSWERS, ids=["zh", "en"])
async def test_grades_through_real_server(
    llama_server: str, lora: tuple[Question, Rubric], answer: str
) -> None:
    q, r = three_points(lora)
    settings = load_settings(openai_base_url=llama_server, timeout=300, deadline=900)
    judge = make_judge("compatible:smollm2", settings)
    assert isinstance(judge, LLMJudge)
    grade = await judge.agrade(q, r, answer)

    Grade.model_validate(grade.model_dump())
    assert "judge_fallback" not in grade.flags, grade.notes
    assert judge.last_finish_reason == "stop"
    assert [v.key_point for v in grade.verdicts] == [kp.id for kp in r.key_points]
    for verdict in grade.verdicts:
        # Verification ran: whatever the model claimed, a verdict that kept credit has a
        # quote that is really in the answer, and a failed quote left a flag.
        if verdict.verdict != "missed":
            assert locate(verdict.evidence, answer) is not None
    assert grade.usage.input_tokens > 0 and grade.usage.output_tokens > 0
    await judge.provider.aclose()
