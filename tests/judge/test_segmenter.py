"""The segmenter cuts text block by block, with a cache: the same tokens as jieba's cut of
the whole text, and a block shared by several texts is cut once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interviewer.judge.normalize import comparable, nfkc
from interviewer.judge.text import Segmenter


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter()


def whole_cut(seg: Segmenter, text: str, hmm: bool = True) -> list[str]:
    """jieba's cut of the whole text, filtered as the segmenter filters it."""
    return [t for t in seg._tokenizer().cut(nfkc(text), HMM=hmm) if comparable(t)]


pieces = st.sampled_from(
    ["梯度检查点", "在前向时丢弃激活", "，", "。", "反向时重算", "KV cache", " ", "\n", "-",
     "O(√n)", "ＬｏＲＡ", "low-rank", "3.5%", "c++", "优化器状态", "、", "显存", "Adam's",
     "；", "１２８", "#", "不会增加推理延迟"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(text=st.lists(pieces, max_size=12).map("".join), hmm=st.booleans())
def test_cut_block_by_block_is_the_whole_cut(seg: Segmenter, text: str, hmm: bool) -> None:
    assert seg.cut(text, hmm) == whole_cut(seg, text, hmm)


def test_a_block_shared_by_two_texts_is_cut_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seg = Segmenter()
    tk = seg._tokenizer()
    cut: list[str] = []
    original = tk.cut

    def spy(text: str, *args: Any, **kwargs: Any) -> Any:
        cut.append(text)
        return original(text, *args, **kwargs)

    monkeypatch.setattr(tk, "cut", spy)
    shared = "梯度检查点在前向时丢弃激活"
    first = seg.cut(f"{shared}，反向时重算。")
    second = seg.cut(f"显存省了很多。{shared}，代价是多算一遍")
    assert cut.count(shared) == 1
    assert first == whole_cut(Segmenter(), f"{shared}，反向时重算。")
    assert second == whole_cut(Segmenter(), f"显存省了很多。{shared}，代价是多算一遍")


def test_learning_a_term_forgets_the_cut_blocks() -> None:
    seg = Segmenter()
    text = "这里用到了乾坤挪移法来省显存"
    before = seg.cut(text)
    assert "乾坤挪移法" not in before
    seg.add_terms(["乾坤挪移法"])
    assert "乾坤挪移法" in seg.cut(text)
    assert seg.cut(text) == whole_cut(seg, text)
