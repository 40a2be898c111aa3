"""Whether an answer says a reference's opposite, and which reference an answer is graded by.

"The terminals are connected" and "the terminals are not connected" are as near each other
in meaning as two paraphrases, to sentence embeddings and to word overlap alike. Where a
row gives several acceptable references (one says the terminals are not connected, another
that there is a gap between them), an answer that says the first one's words with the
negation turned round must not be graded by that one: it is graded by the references it
does not contradict, and by all of them only if it contradicts every one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from interviewer.judge.features import content_words
from interviewer.judge.negation import negation_count, negation_spans
from interviewer.judge.normalize import nfkc

SHARED = 0.5  # of the reference's words in the answer, and of the answer's in the reference

_LITOTES = re.compile(
    r"\s*(?:any\s+|much\s+)?(?:different|less|lower|worse|fewer|smaller|more|higher|better"
    r"|greater|larger)\b",
    re.I,
)
_CLAUSE_STOP = re.compile(r"[，,;；。:：!?！？]|\.(?:\s|$)")


def aimed(text: str, words: frozenset[str]) -> bool:
    """Whether a negation in `text` falls on one of `words`: one of the first three content
    words after it, in its clause, is one (in "The bias does not scale the weights on the
    expert outputs", "not" falls on "scale" and "weights"; in "no need to worry, we filter
    the input", on "need" and "worry"). Litotes deny nothing: "no different from", "no
    lower than", "不比旧的低"."""
    t = nfkc(text)
    for start, end in negation_spans(t):
        rest = _CLAUSE_STOP.split(t[end:], maxsplit=1)[0]
        if t.startswith("不比", start):
            continue
        if re.search(r"\bno$", t[:end], re.I) and _LITOTES.match(rest):
            continue
        if words.intersection(content_words(rest)[:3]):
            return True
    return False


def contradicts(answer: str, reference: str, question: str = "") -> bool:
    """Whether `answer` says `reference` with its negation turned round: the two share at
    least half of each other's content words (the question's own count as the reference's),
    one has an odd number of negations more than the other, and that negation falls on the
    other's words ("the pitch is higher, not lower" against "the pitch is higher" does not:
    its "not" falls on "lower")."""
    said, ref = negation_count(answer), negation_count(reference)
    if said % 2 == ref % 2:
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
    return aimed(answer, given) if said > ref else aimed(reference, have)


def best_reference(scores: Sequence[float | None], contradicted: Sequence[bool]) -> int:
    """The index of the best score (the first on a tie; None: not graded) among the
    references the answer does not contradict, or among all of them if it contradicts
    every one."""
    graded = [i for i, s in enumerate(scores) if s is not None]
    if not graded:
        raise ValueError("no reference was graded")
    fair = [i for i in graded if not contradicted[i]] or graded
    return max(fair, key=lambda i: (scores[i], -i))
