"""Ad-hoc rubrics: grade against key points given as plain strings, or only a reference answer.

Key points get ids kp-1, kp-2...; evidence terms are drawn from each key point's own words
(Latin-script terms and Chinese words that are not function words). A reference answer
alone is split into sentences, and those are grouped into at most seven key points of
equal weight.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from interviewer.bank.schema import Evidence, KeyPoint, Question, Rubric, Text
from interviewer.errors import InterviewerError
from interviewer.judge.text import is_function_word, segmenter, split_units

MAX_KEY_POINTS = 7
ADHOC_PREFIX = "adhoc-"  # the id of every ad-hoc question and rubric starts so
MIN_KEY_POINT_CHARS = 12
_LATIN_TERM = re.compile(r"[A-Za-z][A-Za-z0-9_\-+.]*[A-Za-z0-9]")


class AdhocKeyPoint(BaseModel):
    text: str = Field(min_length=1)
    weight: float = Field(1.0, gt=0)


def _text(value: str) -> Text:
    # Ad-hoc text is in whatever language the user wrote; it stands for both.
    return Text.model_construct(zh=value, en=value)


def is_adhoc(question_id: str) -> bool:
    """Whether a question or rubric was made by `adhoc_rubric` (from a reference answer or
    key points given with a row), not taken from the bank."""
    return question_id.startswith(ADHOC_PREFIX)


def evidence_terms(text: str, limit: int = 8) -> list[str]:
    terms: list[str] = []
    for term in _LATIN_TERM.findall(text):
        if len(term) >= 2 and not is_function_word(term):
            terms.append(term)
    for token in segmenter().cut(re.sub(r"[A-Za-z0-9_\-+.]+", " ", text)):
        if len(token) >= 2 and not is_function_word(token):
            terms.append(token)
    return list(dict.fromkeys(terms))[:limit]


def split_reference(reference: str) -> list[str]:
    """Sentences of the reference, short ones joined to the next, in at most 7 groups."""
    sentences = [u.text for u in split_units(reference) if u.kind == "sentence"]
    merged: list[str] = []
    carry = ""
    for s in sentences:
        carry = f"{carry}{s}" if carry else s
        if len(carry) >= MIN_KEY_POINT_CHARS:
            merged.append(carry)
            carry = ""
    if carry:
        if merged:
            merged[-1] += carry
        else:
            merged.append(carry)
    if len(merged) <= MAX_KEY_POINTS:
        return merged
    size = -(-len(merged) // MAX_KEY_POINTS)
    return ["".join(merged[i : i + size]) for i in range(0, len(merged), size)]


def adhoc_rubric(
    question: str,
    key_points: Sequence[str | AdhocKeyPoint] | None = None,
    reference: str | None = None,
) -> tuple[Question, Rubric]:
    """A question and rubric built from what a batch row or an API caller gives."""
    points = [AdhocKeyPoint(text=k) if isinstance(k, str) else k for k in key_points or []]
    points = [p for p in points if p.text.strip()]
    if not points and reference and reference.strip():
        points = [AdhocKeyPoint(text=s) for s in split_reference(reference)]
    if not points:
        raise InterviewerError(
            "an ad-hoc rubric needs key points or a reference answer",
            hint="Give `key_points` (a list of strings) and/or `reference`.",
        )
    digest = hashlib.sha256(
        "\n".join([question, *(p.text for p in points), reference or ""]).encode()
    ).hexdigest()[:10]
    qid = f"{ADHOC_PREFIX}{digest}"
    kps = [
        KeyPoint.model_construct(
            id=f"kp-{i}",
            text=_text(p.text.strip()),
            weight=p.weight,
            evidence=Evidence.model_construct(zh=evidence_terms(p.text), en=[]),
        )
        for i, p in enumerate(points, 1)
    ]
    ref = reference.strip() if reference and reference.strip() else " ".join(p.text for p in points)
    rubric = Rubric.model_construct(
        question_id=qid,
        version=1,
        key_points=kps,
        misconceptions=[],
        reference_answer=_text(ref),
        sources=[],
    )
    q = Question.model_construct(
        id=qid,
        topic="adhoc",
        difficulty=2,
        kind="concept",
        prompt=_text(question.strip() or "(no question text)"),
        follow_ups=[],
        tags=[],
        inventory_ids=[],
        related=[],
    )
    return q, rubric
