"""Term matching: the same answers as the regular-expression matcher it replaced."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interviewer.judge.normalize import comparable, nfkc
from interviewer.judge.text import find_terms, split_units

_ASCII = re.compile(r"^[\x00-\x7f]+$")


def regex_find_terms(terms: list[str], text: str) -> list[str]:
    """The earlier matcher: one compiled pattern per term (kept here as the reference)."""
    spaced = " ".join(comparable(w) for w in nfkc(text).split())
    squashed = comparable(text)
    found = []
    for term in terms:
        norm = comparable(term)
        if not norm:
            continue
        if _ASCII.match(norm) and norm[0].isalnum():
            body = r"[\s\-_]*".join(re.escape(c) for c in norm)
            hit = re.search(rf"(?<![a-z0-9]){body}(?![a-z0-9])", spaced)
        else:
            hit = re.search(re.escape(norm), spaced if _ASCII.match(norm) else squashed)
        if hit:
            found.append(term)
    return found


def test_examples() -> None:
    text = "LoRA 的 low rank 分解：ΔW = BA； KV-cache 省显存, Frank 说 rank = 8。"
    terms = ["lora", "low-rank", "lowrank", "rank", "kv cache", "显存", "ΔW", "ank", "r", "8"]
    assert find_terms(terms, text) == [
        "lora",
        "low-rank",
        "lowrank",
        "rank",
        "kv cache",
        "显存",
        "ΔW",
        "8",
    ]
    assert find_terms(["rank"], "frank and franker") == []
    assert find_terms(["ＬｏＲＡ"], "lora") == ["ＬｏＲＡ"]  # full width is the same letter


pieces = st.sampled_from(
    ["lo", "ra", "rank", "low", "k", "v", "cache", "8", "int8", " ", "  ", "-", "_", ",", "。",
     "f", "注意力", "显存", "ＬｏＲＡ", "Δ", "W", "(", "+", "c++", "\n"]
)  # fmt: skip
texts = st.lists(pieces, max_size=14).map("".join)


@settings(max_examples=400, deadline=None)
@given(terms=st.lists(texts, max_size=6), text=texts)
def test_same_as_the_regex_matcher(terms: list[str], text: str) -> None:
    assert find_terms(terms, text) == regex_find_terms(terms, text)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Min et al. (2022) found it. Labels matter less.",
            ["Min et al. (2022) found it.", "Labels matter less."],
        ),
        (
            "Cache something, e.g. the keys. Then reuse it.",
            ["Cache something, e.g. the keys.", "Then reuse it."],
        ),
        (
            "Exact, i.e. not approximate. FlashAttention is exact.",
            ["Exact, i.e. not approximate.", "FlashAttention is exact."],
        ),
        ("It ends here. So does this.", ["It ends here.", "So does this."]),
        ("先划分数据。再归一化。", ["先划分数据。", "再归一化。"]),
    ],
)
def test_an_abbreviation_does_not_end_a_sentence(text: str, sentences: list[str]) -> None:
    """A key point that cites "Kaplan et al. (2020)" was cut into "(2020) held that ...",
    which read as the claim it reports."""
    assert [u.text for u in split_units(text) if u.kind == "sentence"] == sentences
