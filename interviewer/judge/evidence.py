"""What an LLM judge's quote must be to earn its verdict.

A model's verdict counts only with a quote that proves it. A quote passes when it is:
1. not the guards' own marker (`[removed by the guards]`, or a piece of it);
2. found in the candidate's own text (after normalising width, case, spaces and
   punctuation: located on the prepared answer, `judge/prepared.py`, whose units the guards
   read), not in the redacted text the model was sent, and outside every sentence the
   guards set aside (text aimed at the grader never earns a point);
3. long enough to state a point: a "size" of at least MIN_SIZE, where a CJK character
   counts 1 and a word in any other script (or a number) counts 2. So 6 Chinese
   characters, or 3 English words, or a mix such as "LoRA 冻结预训练权重"; not "A", "和",
   "LoRA" or "低秩分解";
4. about its key point (or misconception): it contains one of the rubric's evidence terms
   for that item, or the offline encoder puts it within SIMILARITY of the item's
   statement (zh or en).

SIMILARITY = 0.5 was measured on the LoRA rubric (tests/data/bank) with the multilingual
encoder: quotes that state a *different* key point score at most 0.45 against a key
point, and generic sentences below 0.15; quotes that state the point without any rubric
term score 0.20-0.57. So the similarity path only admits close restatements, and the
terms carry the rest; a true paraphrase with neither is dropped (the safe side: the
model's word alone never earns a point).

A quote that fails is dropped: the verdict becomes `missed`, the grade is flagged
`unverified_evidence`, and the reason says which check failed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from interviewer.judge.embed import Encoder
from interviewer.judge.normalize import Span, comparable
from interviewer.judge.prepared import PreparedAnswer
from interviewer.judge.text import find_terms

MARKER = "[removed by the guards]"
MIN_SIZE = 6
SIMILARITY = 0.5
EVIDENCE_VERSION = "1"  # part of the LLM judges' fingerprint; bump when the rules change

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
_MARKER = comparable(MARKER)


@dataclass(frozen=True)
class Target:
    """What a quote must be about: a key point's (or misconception's) terms and text."""

    terms: Sequence[str]
    texts: Sequence[str]


def size(quote: str) -> int:
    """CJK characters count 1, other words and numbers 2 (see the module notes)."""
    return len(_CJK.findall(quote)) + 2 * len(_WORD.findall(quote))


def is_marker(quote: str) -> bool:
    q = comparable(quote)
    return bool(q) and (q in _MARKER or _MARKER in q)


class EvidenceChecker:
    """Checks quotes against one answer; `blocked` are the spans the guards set aside (spans
    of the prepared answer's text, as the guards' units are)."""

    def __init__(
        self, answer: str | PreparedAnswer, blocked: Sequence[Span], encoder: Encoder
    ) -> None:
        self.answer = PreparedAnswer.of(answer)
        self.blocked = list(blocked)
        self.encoder = encoder

    def problem(self, quote: str, target: Target) -> str | None:
        """Why `quote` does not prove `target`, or None when it does."""
        if not comparable(quote):
            return "no quote given"
        if is_marker(quote):
            return "the quote is the guards' marker, not the candidate's words"
        span = self.answer.locate_in_text(quote)
        if span is None:
            return "the quote is not in the answer"
        start, end = span
        if any(start < b_end and b_start < end for b_start, b_end in self.blocked):
            return "the quote is in text the guards set aside"
        if size(quote) < MIN_SIZE:
            return f"the quote is too short to state the point ({quote.strip()[:20]!r})"
        if find_terms(target.terms, quote):
            return None
        texts = [t for t in target.texts if t.strip()]
        if texts and float(self.encoder.similarity([quote], texts).max()) >= SIMILARITY:
            return None
        return "the quote does not bear on this point"
