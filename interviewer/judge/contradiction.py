"""Whether an answer says a reference's opposite, and which reference an answer is graded by.

"The terminals are connected" and "the terminals are not connected" are as near each other
in meaning as two paraphrases, to sentence embeddings and to word overlap alike. Where a
row gives several acceptable references (one says the terminals are not connected, another
that there is a gap between them), an answer that says the first one's words with the
negation turned round must not be graded by that one: it is graded by the references it
does not contradict, and by all of them only if it contradicts every one.
"""

from __future__ import annotations

from collections.abc import Sequence

from interviewer.judge.features import content_words
from interviewer.judge.negation import aimed_count, negation_count

SHARED = 0.5  # of the reference's words in the answer, and of the answer's in the reference


def contradicts(answer: str, reference: str, question: str = "") -> bool:
    """Whether `answer` says `reference` with its negation turned round: the two share at
    least half of each other's content words (the question's own count as the reference's),
    and the negations that fall on the words they share are odd in one and even in the
    other ("the terminals are connected" against "the terminals are not connected"). Not
    "the pitch is higher, not lower" against "the pitch was higher", whose "not" falls on
    "lower", nor "the terminals are not connected, so there is no voltage" against "the
    terminals are not connected", whose second negation falls on a word the reference
    lacks."""
    if not negation_count(answer) and not negation_count(reference):
        return False
    answer_words, reference_words = content_words(answer), content_words(reference)
    if not answer_words or not reference_words:
        return False
    asked = frozenset(content_words(question))
    have, given = frozenset(answer_words), frozenset(reference_words)
    recall = sum(w in have for w in reference_words) / len(reference_words)
    precision = sum(w in given or w in asked for w in answer_words) / len(answer_words)
    if recall < SHARED or precision < SHARED:
        return False
    shared = have & given
    return aimed_count(answer, shared) % 2 != aimed_count(reference, shared) % 2


def best_reference(scores: Sequence[float | None], contradicted: Sequence[bool]) -> int:
    """The index of the best score (the first on a tie) among the references the answer
    does not contradict, or among all of them if it contradicts every one. None: that
    reference could not be graded; if every reference the answer may be graded by is
    such, there is no grade to keep (ValueError), not the grade of one it contradicts."""
    fair = [i for i, c in enumerate(contradicted) if not c] or list(range(len(scores)))
    graded = [i for i in fair if scores[i] is not None]
    if not graded:
        raise ValueError("no reference the answer does not contradict could be graded")
    return max(graded, key=lambda i: (scores[i], -i))


def graded_by(
    answer: str, references: Sequence[str], scores: Sequence[float | None], question: str = ""
) -> int:
    """The index of the reference `answer` is graded by, given its score by each
    (`best_reference`); with one reference there is nothing to read."""
    if len(references) < 2:
        return best_reference(scores, [False] * len(references))
    return best_reference(scores, [contradicts(answer, r, question) for r in references])
