"""Normalisation: the comparable form, and quotes located in the original answer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from interviewer.judge.normalize import comparable, locate, squash


def test_comparable_drops_case_width_space_and_punctuation() -> None:
    assert comparable("ＬｏＲＡ，低秩 Adapter!") == "lora低秩adapter"
    assert comparable("“KV-cache”\u3000省显存。") == "kvcache省显存"


def test_locate_gives_the_span_in_the_original_text() -> None:
    answer = "它用 ＬｏＲＡ 微调，只训练 A、B 两个矩阵。"
    start, end = locate("lora 微调", answer) or (0, 0)
    assert answer[start:end] == "ＬｏＲＡ 微调"
    assert locate("full fine-tuning", answer) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_comparable_is_the_squashed_text(text: str) -> None:
    squashed, index = squash(text)
    assert comparable(text) == squashed
    assert len(index) == len(squashed) and index == sorted(index)
