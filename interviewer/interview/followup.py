"""Follow-up decisions and how verdicts across a question's answers combine.

- After each answer, while a key point is missed or partial and the per-question limit
  allows, ask about one of them (`next_probe`): missed before partial, then the heaviest,
  then one the bank wrote a follow-up for, then rubric order. The bank's follow-up written
  for the chosen point is asked if there is one; else the point's title names the topic
  (interview/gap.py). A point whose subject cannot be named (no title, no written
  follow-up) is not asked about: a follow-up that names no topic teaches nothing.
- A key point is asked about at most once per question, so never twice in a row.
- Never about a point the candidate said they do not know (`declined`): an answer that is
  only a short "I don't know" (`says_dont_know`) ends the probing of the question; a
  sentence that says "不清楚 / not sure ..." declines the key points it names (by title or
  evidence term), or the whole question when it speaks of the rest ("其他的不知道", "not
  sure about the rest"), or else the point the follow-up it answers asked about.
- Stop probing when the candidate is off-topic twice.

How verdicts across a question's answers combine is grading: `interviewer.judge.merge`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Literal

from interviewer.bank.schema import FollowUp, KeyPoint, Question, Rubric
from interviewer.interview.state import Attempt
from interviewer.judge.features import content_words
from interviewer.judge.schema import Grade
from interviewer.judge.text import find_terms, split_units

# Saying one does not know, inside any sentence. Not "不会" (不会增加延迟 says no such
# thing) nor "pass"/"skip", which count only as a whole answer (WHOLE_ANSWER).
DECLINE = re.compile(
    r"(不知道|不清楚|不太清楚|不了解|不太了解|没了解过|没怎么了解|没接触过|没学过|没研究过|"
    r"没用过|不太懂|不懂|忘了|记不清|没有概念|说不上来|不确定|"
    r"\bi\s+(?:really\s+)?don'?t\s+know\b|\bi\s+do\s+not\s+know\b|\bno\s+idea\b|"
    r"\bnot\s+sure\b|\bdon'?t\s+remember\b|\bnot\s+familiar\b|\bnever\s+(?:used|studied|"
    r"looked\s+(?:at|into))\b|\bhaven'?t\s+(?:used|studied|looked\s+(?:at|into))\b)",
    re.IGNORECASE,
)
WHOLE_ANSWER = re.compile(
    r"^\W*(?:(?:这个|这题|这道题)?(?:我)?不会(?:了)?|pass|skip|no|nope)\W*$", re.IGNORECASE
)
# Words that make a "don't know" sentence about the rest of the question.
REST = re.compile(
    r"(其他|其它|别的|剩下|其余|更多的|\bthe\s+rest\b|\banything\s+else\b|\bbeyond\s+that\b|"
    r"\bother\s+(?:parts?|points?|things?)\b)",
    re.IGNORECASE,
)
DONT_KNOW_MAX_CHARS = 40
# Grade flags after which nothing in the answer is taken at its word.
UNTRUSTED = {"empty", "gibberish", "off_topic", "keyword_stuffing", "injection"}


def says_dont_know(answer: str) -> bool:
    """A short answer of one sentence that says the candidate does not know."""
    text = answer.strip()
    if len(text) > DONT_KNOW_MAX_CHARS or sum(u.kind == "sentence" for u in split_units(text)) > 1:
        return False
    return bool(WHOLE_ANSWER.match(text) or DECLINE.search(text))


ALL: Literal["all"] = "all"


def declined(rubric: Rubric, attempts: Sequence[Attempt]) -> set[str] | Literal["all"]:
    """The key points the candidate said they do not know, or ALL for the whole question.

    An answer that is only a short "don't know" (`says_dont_know`) declines the whole
    question. In a longer answer, a sentence with a "don't know" phrase declines the key
    points that its "don't know" clause names (a title's words, or an evidence term; the
    whole sentence when it has one clause); naming none, it declines the whole question if
    it speaks of the rest ("其他的不清楚", "not sure about the rest"), else the point that
    the follow-up being answered asked about ("具体数值我不知道", about no point, declines
    nothing).
    """
    out: set[str] = set()
    for attempt in attempts:
        answer = attempt["answer"]
        if says_dont_know(answer):
            return ALL
        units = split_units(answer)
        for s in units:
            if s.kind != "sentence" or not DECLINE.search(s.text):
                continue
            clauses = [
                c
                for c in units
                if c.kind == "clause"
                and s.start <= c.start
                and c.end <= s.end
                and DECLINE.search(c.text)
            ]
            texts = [c.text for c in clauses] or [s.text]
            named = set().union(*(_names(rubric, t) for t in texts))
            if named:
                out |= named
            elif REST.search(s.text):
                return ALL
            elif attempt["probes"]:
                out.add(attempt["probes"])
    return out


def _names(rubric: Rubric, sentence: str) -> set[str]:
    """Key points a sentence names: by an evidence term, or half the title's words."""
    words = set(content_words(sentence))
    named = set()
    for kp in rubric.key_points:
        if find_terms(kp.evidence.terms(), sentence):
            named.add(kp.id)
            continue
        if kp.title is None:
            continue
        for title in (kp.title.zh, kp.title.en):
            wanted = set(content_words(title))
            if wanted and len(wanted & words) * 2 >= len(wanted):
                named.add(kp.id)
                break
    return named


def next_probe(
    rubric: Rubric,
    merged: Grade,
    probed: Collection[str],
    written: Collection[str] | None = None,
    declined: Collection[str] = (),
) -> KeyPoint | None:
    """The key point to ask about next: one still missed or partial, neither asked about
    (`probed`) nor declined by the candidate (`declined`).

    Missed before partial, then the heaviest, then one the bank has a written follow-up
    for (`written`), then rubric order.
    """
    written = written or set()
    open_points = [
        kp
        for kp in rubric.key_points
        if kp.id not in probed
        and kp.id not in declined
        and merged.verdict(kp.id).verdict != "covered"
    ]
    if not open_points:
        return None
    return max(
        open_points,
        key=lambda kp: (
            merged.verdict(kp.id).verdict == "missed",
            kp.weight,
            kp.id in written,
            -rubric.key_points.index(kp),
        ),
    )


def choose_probe(
    question: Question,
    rubric: Rubric,
    merged: Grade,
    attempts: Sequence[Attempt],
    probed: list[str],
) -> KeyPoint | None:
    """The interview's follow-up policy: `next_probe` over the points whose subject a
    follow-up can name (a written follow-up or a title), none the candidate declined."""
    said_no = declined(rubric, attempts)
    if said_no == ALL:
        return None
    written = {fu.probes for fu in question.follow_ups}
    unnamed = [kp.id for kp in rubric.key_points if kp.title is None and kp.id not in written]
    return next_probe(rubric, merged, [*probed, *unnamed], written, said_no)


def follow_up_for(question: Question, key_point: str) -> FollowUp | None:
    for fu in question.follow_ups:
        if fu.probes == key_point:
            return fu
    return None
