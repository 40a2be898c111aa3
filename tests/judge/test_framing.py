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
        "It’s tempting to think the KV cache saves memory.",
        "Common mistakes include thinking LoRA shrinks the model.",
        "Some say forgetting is overfitting, but it is not.",
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
        "LoRA 可以为每一层单独设置秩。",  # 以为 inside 可以为
        "所以为了节省显存，只训练低秩矩阵。",  # ... and inside 所以为了
        "You expect the merged model to be as fast as the base.",
        "其实不然，合并之后会增加推理延迟。",  # rejects something, then asserts
    ],
)
def test_a_plain_statement_is_not(text: str) -> None:
    assert not reports_a_mistake(text)
