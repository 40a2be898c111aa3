"""Negations in a text: where each is, and how many.

English negation words and contractions ("doesn't"), and Chinese words that start with
不/没/未 (but not 不过, 不同, 未来...) or are listed in `judge/data/negation_zh.txt` (并非,
无需, 而非...). The offline judge reads them to tell a claim from its denial, and
`judge/contradiction.py` an answer that says a reference from one that says its opposite
("the terminals are connected" against "the terminals are not connected").
"""

from __future__ import annotations

import re
from functools import lru_cache

from interviewer.judge.features import content_words
from interviewer.judge.normalize import nfkc
from interviewer.judge.text import HAN, cached_on_words, segmenter, word_list

NEGATIONS_ZH = word_list("negation_zh")
_NEG_EN = re.compile(
    r"\b(?:not(?!\s+only\b[^.;]*\bbut\b)|no|never|none|nothing|neither|nor|without|cannot"
    r"|hardly)\b|n['’ ]t\b",
    re.I,
)  # "not only ... but (also)" negates nothing, as 不仅 does not; "not only X" alone does
_NEG_ZH_PREFIX = "不没未"  # 不会, 不够, 没有, 未必...: a word that starts so negates
_NOT_NEGATION_ZH = frozenset(
    [
        "不过",
        "不断",
        "不少",
        "不仅",
        "不但",
        "不管",
        "不论",
        "不久",
        "不同",
        "不错",
        "不如",
        "不妨",
        "不然",
        "不禁",
        "未来",
        "没事",
    ]
)


@cached_on_words
@lru_cache(maxsize=16384)
def negation_count(text: str) -> int:
    """How many negations `text` has."""
    return len(negation_spans(nfkc(text)))


def negation_spans(t: str) -> list[tuple[int, int]]:
    """Where each negation of `t` (NFKC already) starts and ends: English ones first, then
    Chinese (the whole word: "不比旧" where the segmenter keeps it together)."""
    spans = [m.span() for m in _NEG_EN.finditer(t)]
    at = 0
    for tok in segmenter().cut(t):
        found = t.find(tok, at)
        start = found if found >= 0 else at
        at = found + len(tok) if found >= 0 else at
        if not HAN.search(tok) or tok in _NOT_NEGATION_ZH:
            continue
        if tok in NEGATIONS_ZH or tok[0] in _NEG_ZH_PREFIX:
            spans.append((start, at))
    return spans


_LITOTES = re.compile(
    r"\s*(?:any\s+|much\s+)?(?:different|less|lower|worse|fewer|smaller|more|higher|better"
    r"|greater|larger)\b",
    re.I,
)
_CLAUSE_STOP = re.compile(r"[，,;；。:：!?！？]|\.(?:\s|$)")


def aimed(text: str, words: frozenset[str]) -> bool:
    """Whether a negation in `text` falls on one of `words` (`aimed_count`)."""
    return aimed_count(text, words) > 0


def aimed_count(text: str, words: frozenset[str]) -> int:
    """How many negations in `text` fall on one of `words`: one of the first three content
    words after it, in its clause, is one (in "The bias does not scale the weights on the
    expert outputs", "not" falls on "scale" and "weights"; in "no need to worry, we filter
    the input", on "need" and "worry"). Litotes deny nothing: "no different from", "no
    lower than", "不比旧的低"."""
    t = nfkc(text)
    count = 0
    for start, end in negation_spans(t):
        rest = _CLAUSE_STOP.split(t[end:], maxsplit=1)[0]
        if t.startswith("不比", start):
            continue
        if re.search(r"\bno$", t[:end], re.I) and _LITOTES.match(rest):
            continue
        if words.intersection(content_words(rest)[:3]):
            count += 1
    return count
