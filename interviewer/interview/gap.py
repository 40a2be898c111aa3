"""What a follow-up says about the gap it probes.

A follow-up asks about one missed or partial key point. The bank's follow-up written for
that point is asked if there is one; otherwise the persona's template names the point's
subject by its `title` and, where the candidate said something to hang it on, echoes a
phrase of theirs ("你提到了 Qwen 和 DeepSeek，那许可证呢？"). The key point's text, evidence
and reference never go into the line or to a model voice: only the title, the id (for a
model, as the topic's name) and the candidate's own words.

The echoed phrase comes from the answer's unit that best matches the point (for a partial
point, the judge's evidence quote; for a missed one, the unit sharing most words with it,
else the quote of the heaviest point the candidate got): the named terms in it (LoRA, KV,
Qwen, or the rubric's terms for points the candidate covered), or the unit itself when it
is short. Never one of the probed point's own evidence terms (the words its answer would
use), nor one of the question's own words, nor anything from an answer flagged off-topic, gibberish,
keyword stuffing or injection.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from interviewer.bank.schema import FollowUp, KeyPoint, Question, Rubric
from interviewer.interview.followup import UNTRUSTED, follow_up_for
from interviewer.interview.state import Attempt
from interviewer.interview.voice import Emit, Voice
from interviewer.judge.features import content_words
from interviewer.judge.normalize import comparable
from interviewer.judge.schema import Grade
from interviewer.judge.text import FUNCTION_EN, find_terms, mostly_han, split_units

# Persona line kinds (interview/personas/*.yaml) for a follow-up named by a title.
PROBE_KINDS = ("probe", "probe_said", "probe_partial", "probe_deeper")

MAX_TERMS = 2
MAX_QUOTE_ZH = 18  # characters
MAX_QUOTE_EN = 8  # words
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_+.\-]*[A-Za-z0-9+]|[A-Za-z]\d+")
_TRAILING = "。，、；：！？,.;:!? \n\t"


@dataclass(frozen=True)
class Gap:
    """The key point a follow-up probes, and how to ask about it."""

    key_point: KeyPoint
    verdict: str  # missed | partial
    written: FollowUp | None  # the bank's follow-up for this point
    said: str | None  # a phrase of the candidate's to hang the question on

    @property
    def kind(self) -> str:
        """The persona line kind: `follow_up` for a written follow-up, else a probe kind."""
        if self.written is not None:
            return "follow_up"
        if self.verdict == "partial":
            return "probe_partial" if self.said else "probe_deeper"
        return "probe_said" if self.said else "probe"


def gap_for(
    question: Question,
    rubric: Rubric,
    merged: Grade,
    attempts: Sequence[Attempt],
    kp: KeyPoint,
    lang: str,
) -> Gap:
    verdict = merged.verdict(kp.id)
    written = follow_up_for(question, kp.id)
    said = None if written else said_phrase(question, rubric, merged, attempts, kp, lang)
    return Gap(key_point=kp, verdict=verdict.verdict, written=written, said=said)


def ask_gap(
    voice: Voice, gap: Gap, question: Question, lang: str, turn: int, emit: Emit | None
) -> str:
    """The follow-up line, from the voice."""
    if gap.written is not None:
        return voice.say("follow_up", lang, turn, emit, q=gap.written.get(lang))
    kp = gap.key_point
    assert kp.title is not None, f"key point {kp.id} has no title to name it by"
    return voice.say(
        gap.kind,
        lang,
        turn,
        emit,
        title=kp.title.get(lang),
        said=gap.said or "",
        topic=kp.id,
        question=question.prompt.get(lang),
    )


# --- the candidate's phrase -------------------------------------------------------------------


def said_phrase(
    question: Question,
    rubric: Rubric,
    merged: Grade,
    attempts: Sequence[Attempt],
    kp: KeyPoint,
    lang: str,
) -> str | None:
    """A short phrase of the candidate's to echo when asking about `kp`, or None."""
    answers = [a["answer"] for a in attempts if not UNTRUSTED & set(a["grade"].get("flags", []))]
    if not answers:
        return None
    verdict = merged.verdict(kp.id)
    unit = verdict.evidence if verdict.verdict == "partial" and verdict.evidence else None
    if unit is None or not any(unit in a for a in answers):
        unit = _best_unit(answers, kp)
    if unit is None:
        unit = _heaviest_quote(rubric, merged, answers)
    if unit is None:
        return None
    return _phrase(unit, question, rubric, kp, lang)


def _best_unit(answers: list[str], kp: KeyPoint) -> str | None:
    """The unit of the answers that shares most words with the key point (latest wins a
    tie); None when none shares any."""
    wanted = set(content_words(" ".join(_own_texts(kp))))
    best: tuple[int, str] | None = None
    for answer in answers:
        for unit in split_units(answer):
            if unit.kind != "sentence":
                continue
            hits = len(wanted & set(content_words(unit.text)))
            hits += 2 * len(find_terms(kp.evidence.terms(), unit.text))
            if hits and (best is None or hits >= best[0]):
                best = (hits, unit.text)
    return best[1] if best else None


def _heaviest_quote(rubric: Rubric, merged: Grade, answers: list[str]) -> str | None:
    """The evidence quote of the heaviest point the candidate covered (or half covered)."""
    quoted = [
        (kp.weight, merged.verdict(kp.id).evidence)
        for kp in rubric.key_points
        if merged.verdict(kp.id).verdict != "missed" and merged.verdict(kp.id).evidence
    ]
    quoted = [(w, q) for w, q in quoted if any(q in a for a in answers)]
    return max(quoted, key=lambda wq: wq[0])[1] if quoted else None


def _own_texts(kp: KeyPoint) -> list[str]:
    texts = [kp.text.zh, kp.text.en, *kp.evidence.terms()]
    if kp.title is not None:
        texts += [kp.title.zh, kp.title.en]
    return texts


def _phrase(unit: str, question: Question, rubric: Rubric, kp: KeyPoint, lang: str) -> str | None:
    """The named terms of a unit, joined; else the unit quoted when short; else None."""
    secret = comparable(" ".join(kp.evidence.terms()))
    asked = comparable(question.prompt.zh + " " + question.prompt.en)

    def fine(term: str) -> bool:
        c = comparable(term)
        return len(c) >= 2 and c not in secret and c not in asked

    own = set(kp.evidence.terms())
    others = [t for p in rubric.key_points if p.id != kp.id for t in p.evidence.terms()]
    found = [(unit.find(t), t) for t in find_terms(others, unit) if t not in own and t in unit]
    found += [(m.start(), m.group()) for m in _LATIN.finditer(unit) if _named(m, unit)]
    terms: list[str] = []
    for _, term in sorted(found):
        if fine(term) and not any(comparable(term) in comparable(t) for t in terms):
            terms = [t for t in terms if comparable(t) not in comparable(term)] + [term]
    if terms:
        return ("和" if lang == "zh" else " and ").join(terms[:MAX_TERMS])
    quote = unit.strip().rstrip(_TRAILING)
    short = len(quote) <= MAX_QUOTE_ZH if lang == "zh" else len(quote.split()) <= MAX_QUOTE_EN
    if quote and short and comparable(quote) and not _reveals(quote, kp):
        return f"“{quote}”" if lang == "zh" else f'"{quote}"'
    return None


def _named(m: re.Match[str], unit: str) -> bool:
    """A Latin word that names something: in Chinese text any word but a function word; in
    English text one with a capital inside, a digit, or a capital not opening the unit."""
    word = m.group()
    if word.casefold() in FUNCTION_EN:
        return False
    if mostly_han(unit):
        return True
    inner = word[1:]
    if any(c.isupper() for c in inner) or any(c.isdigit() for c in word):
        return True
    return word[0].isupper() and unit[: m.start()].strip() != ""


def _reveals(text: str, kp: KeyPoint) -> bool:
    return bool(find_terms(kp.evidence.terms(), text)) or any(
        comparable(t) and comparable(t) in comparable(text) for t in (kp.text.zh, kp.text.en)
    )
