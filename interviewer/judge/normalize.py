"""Text normalisation and evidence verification.

A quote counts as found in an answer when, after NFKC (full width to half width), case
folding, and dropping whitespace and punctuation, it is a substring of the answer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache

from interviewer.judge.schema import ORDER, VerdictLabel

_DROP = {"Zs", "Zl", "Zp", "Cc", "Cf", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"}


def _kept(ch: str) -> str:
    """What one character of a text becomes in its comparable form (often nothing)."""
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        if unicodedata.category(c) not in _DROP:
            out.append(c)
    return "".join(out)


class _Table(dict[int, str]):
    """`_kept` for `str.translate`, filled in as characters are first seen: translating
    runs in C, about ten times faster than a Python loop over the characters."""

    def __missing__(self, code: int) -> str:
        kept = self[code] = _kept(chr(code))
        return kept


_TABLE = _Table()


def nfkc(text: str) -> str:
    """Full width to half width and compatibility forms, whitespace runs collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def squash(text: str) -> tuple[str, list[int]]:
    """The comparable form of `text`, and for each of its characters the index in `text`."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in _TABLE[ord(ch)]:
            chars.append(c)
            index.append(i)
    return "".join(chars), index


@lru_cache(maxsize=65536)
def comparable(text: str) -> str:
    """`text` with case, width, whitespace and punctuation differences removed."""
    return text.translate(_TABLE)


Span = tuple[int, int]


def locate(quote: str, answer: str) -> Span | None:
    """The span of `answer` that `quote` matches after normalisation, or None."""
    a, index = squash(answer)
    return find_squashed(comparable(quote), a, index)


def find_squashed(quote: str, squashed: str, index: Sequence[int]) -> Span | None:
    """The span of a text that `quote` (comparable) matches in its comparable form
    `squashed`, whose characters come from the text's characters at `index`."""
    if not quote:
        return None
    at = squashed.find(quote)
    if at < 0:
        return None
    return index[at], index[at + len(quote) - 1] + 1


def overlap(quote: str, answer: str) -> float:
    """Share of the quote (normalised) that appears as one contiguous run in the answer."""
    q, a = comparable(quote), comparable(answer)
    if not q:
        return 0.0
    match = SequenceMatcher(None, q, a, autojunk=False).find_longest_match(0, len(q), 0, len(a))
    return match.size / len(q)


def verify(quote: str, answer: str, verdict: VerdictLabel) -> tuple[VerdictLabel, bool]:
    """Check a verdict's evidence; return the verdict to keep and whether it was verified.

    Found verbatim: kept. Mostly there (>= 60% as one run): one level down. Otherwise: missed.
    A missed verdict needs no evidence.
    """
    if verdict == "missed":
        return verdict, True
    if locate(quote, answer) is not None:
        return verdict, True
    if overlap(quote, answer) >= 0.6:
        return ("partial" if ORDER[verdict] == 2 else "missed"), False
    return "missed", False
