"""Which words a sentence binds together: the check that tells a misconception from its
correction when both use the same words.

"LoRA sets A to zero and B at random" and "LoRA sets B to zero and A at random" hold the
same words, so a sentence embedding puts them side by side. What differs is which word
stands next to which, inside one clause: (A, zero) and (B, random) against (B, zero) and
(A, random). A pair here is two content words of one clause at most `WINDOW` words apart,
in either order ("A is drawn at random" binds A and random as "random A" does).

A sentence is bound like the correction when it shares more such pairs with the
misconception's correction than with its claim (and at least two): it says what the
correction says, in the correction's pairing, so it is not charged with the claim however
close its embedding is. Chosen on the contrast set's tuning half against two stricter
readings (only pairs of words both claim and correction use; only the claim's words), which
kept fewer correct near misses at the same recall: `python -m benchmarks.contrast`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from interviewer.judge.features import stem
from interviewer.judge.normalize import nfkc
from interviewer.judge.text import FUNCTION_EN, HAN, cached_on_words, is_function_word, segmenter

WINDOW = 3  # words apart within a clause
_CLAUSE = re.compile(r"[，,、;；。:：!?！？\n]|\.(?:\s|$)")
_LETTER = re.compile(r"[A-Z]")  # a one-letter name: LoRA's A and B, not the article "a"
_LATIN = re.compile(r"[a-z0-9][a-z0-9_.+\-']*")

Pair = frozenset[str]


def _words(clause: str) -> list[str]:
    out: list[str] = []
    for token in segmenter().cut(clause):
        token = token.strip()
        if _LETTER.fullmatch(token):
            out.append(token)
            continue
        folded = token.casefold()
        if _LATIN.fullmatch(folded):
            if folded not in FUNCTION_EN:
                out.append(stem(folded))
        elif HAN.search(folded) and not is_function_word(folded):
            out.append(folded)
    return out


@cached_on_words
@lru_cache(maxsize=16384)
def pairs(text: str) -> frozenset[Pair]:
    """The pairs of content words `text` binds: two words of one clause, near each other."""
    out: set[Pair] = set()
    for clause in _CLAUSE.split(nfkc(text)):
        words = _words(clause)
        for i, w in enumerate(words):
            for v in words[i + 1 : i + 1 + WINDOW]:
                if v != w:
                    out.add(frozenset((w, v)))
    return frozenset(out)


def bound_like_correction(text: str, claim: str, correction: str) -> bool:
    """Whether `text` pairs its words as the correction does rather than as the claim:
    more pairs shared with the correction than with the claim, and at least two (one
    shared pair is as likely chance as pairing)."""
    said = pairs(text)
    return len(said & pairs(correction)) > max(len(said & pairs(claim)), 1)
