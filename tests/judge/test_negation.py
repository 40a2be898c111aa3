"""Negations: how many, and where they fall."""

from __future__ import annotations

import pytest

from interviewer.judge.features import content_words
from interviewer.judge.negation import aimed, aimed_count, negation_count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The bias does not scale the weights on the outputs.", True),
        ("No need to worry, we filter the outputs.", False),  # "no" falls on need, worry
        ("Running it offline is no different from doing it online.", False),  # litotes
        ("The new model scores no lower on the outputs.", False),
        ("新模型的分数不比旧的低，输出就可以替换。", False),
        ("它不比旧的偏置差。", False),  # a claim word right after the litotes
        ("偏置不参与输出的加权。", True),
    ],
)
def test_where_a_negation_falls(text: str, expected: bool) -> None:
    claim_words = frozenset(content_words("bias weights outputs online 偏置 输出 加权"))
    assert aimed(text, claim_words) is expected


def test_negations_counted_and_those_on_given_words() -> None:
    words = frozenset(content_words("terminals connected"))
    text = "The terminals are not connected, so there is no voltage."
    assert negation_count(text) == 2
    assert aimed_count(text, words) == 1  # "no" falls on "voltage"
    assert (
        negation_count("Adapters don't add latency, not only in theory but also in practice.") == 1
    )
    assert negation_count("LoRA 不会增加推理延迟，不过要先合并。") == 1  # 不过 is no negation
