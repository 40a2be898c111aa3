"""The naive baseline every grading figure is printed beside: the share of the reference's
words found in the answer, with the question's own words removed (for Chinese, character
bigrams). A judge that is not clearly above it has learnt nothing that counting words
does not give."""

from __future__ import annotations

from interviewer.judge.features import bigrams, content_words
from interviewer.judge.text import mostly_han


def naive_score(question: str, reference: str, answer: str) -> float:
    """0..1: the share of the reference's words (not in the question) that the answer has."""
    if mostly_han(reference):
        want = bigrams(reference) - bigrams(question) or bigrams(reference)
        have = bigrams(answer)
    else:
        q = set(content_words(question))
        want = frozenset(w for w in content_words(reference) if w not in q) or frozenset(
            content_words(reference)
        )
        have = frozenset(content_words(answer))
    return sum(1 for w in want if w in have) / len(want) if want else 0.0
