"""A sentence that reports a belief as a mistake does not assert it."""

from __future__ import annotations

import pytest

from interviewer.judge.framing import reports_a_mistake


@pytest.mark.parametrize(
    "text",
    [
        "A common misunderstanding is that LoRA shrinks the model.",
        "People often picture a maths expert and a code expert with the router choosing by topic.",
        "Another common mistake is budgeting memory for the active 37B parameters.",
        "It's tempting to think the KV cache saves memory.",
        "有一种常见做法是在 prompt 里写一句提醒，以为这样偏差就没了。",
        "很多人认为 LoRA 会压缩模型。",
        "这是一个常见误区：RAG 并不改模型权重。",
    ],
)
def test_a_reported_mistake_is_recognised(text: str) -> None:
    assert reports_a_mistake(text)


@pytest.mark.parametrize(
    "text",
    [
        "LoRA compresses the base model.",
        "Some layers are frozen while the adapters train.",  # "some" without a belief verb
        "One more thing: the merged weights add no latency.",
        "LoRA 会压缩模型，让模型变小。",
        "误差会随着层数累积。",  # 误差 is an error in a value, not a mistaken belief
    ],
)
def test_a_plain_statement_is_not(text: str) -> None:
    assert not reports_a_mistake(text)
