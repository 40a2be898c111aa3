"""Guards that run before any judge, the same for all judges.

They flag answers that are empty, gibberish, off-topic, keyword lists, or that try to
instruct the grader, and decide which parts of an answer may earn credit at all:
- a sentence aimed at the grader never earns a point;
- a run of terms with nothing connecting them (a keyword list) earns nothing;
- an empty, gibberish or off-topic answer earns nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from interviewer.bank.schema import Question, Rubric
from interviewer.judge.embed import Encoder
from interviewer.judge.normalize import comparable, nfkc
from interviewer.judge.schema import Flag
from interviewer.judge.text import (
    Unit,
    find_terms,
    han_count,
    is_function_word,
    latin_words,
    segmenter,
    split_units,
)

# --- instructions aimed at the grader ---------------------------------------------------

_INJECTION_EN = [
    r"\b(ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,60}\b(instruction|instructions|"
    r"rules?|rubric|prompt|guidelines?|criteria|above|previous)\b",
    r"\b(give|award|assign|grant|mark|rate|score)\b[^.!?\n]{0,40}\b(full (marks|score|points)|"
    r"100\s*(/\s*100|%|points?)?|a perfect score|maximum (score|marks|points)|top marks)",
    r"\b(you are|you're|act as|acting as|as) (now )?(the |an? )?(grader|judge|evaluator|examiner|"
    r"assessor|scorer)\b",
    r"(^|\n)\s*\W*(system|developer)( prompt| message| instructions?)?\s*[:：]",
    r"\bmark (all|every|each) (the )?key ?points?\b",
    r"\b(all|every) key ?points? (are|is|as) (covered|met|satisfied)\b",
    r"\bnew instructions?\b",
    r"\bscore\s*[:=]\s*100\b",
]
_INJECTION_ZH = [
    r"(忽略|无视|忽视|不要理会|不用管|跳过|绕过)[^。！？\n]{0,20}(指令|指示|要求|规则|标准|提示|评分|以上|上面|之前|前面)",
    r"(给|打|评|判|算)[^。！？\n]{0,12}(满分|100\s*分|一百分|最高分|全对)",
    r"满分",
    r"(你|您)(现在)?(是|作为|扮演)[^。！？\n]{0,6}(评分|评委|裁判|考官|阅卷|打分|评估)",
    r"作为(评分者|评分员|评委|裁判|考官|阅卷人|打分者|评估者)",
    r"(^|\n)\s*\W*(系统提示|系统指令|系统消息)\s*[:：]",
    r"(所有|全部|每个)(的)?(要点|关键点|得分点|key\s*point)[^。！？\n]{0,8}(覆盖|covered|满足|得分|通过)",
]
_INJECTION = [re.compile(p, re.IGNORECASE) for p in (*_INJECTION_EN, *_INJECTION_ZH)]


def is_injection(text: str) -> bool:
    t = nfkc(text)
    return any(p.search(t) for p in _INJECTION)


# --- statements versus keyword lists -------------------------------------------------------

_LIST_SPLIT = re.compile(r"[\s,，、/;；|]+")
MIN_LIST_ITEMS = 4
MIN_FUNCTION_SHARE = 0.12


def is_keyword_list(unit_text: str) -> bool:
    """True for a run of 4+ short items with (almost) no words that connect them."""
    items = [i for i in _LIST_SPLIT.split(nfkc(unit_text)) if comparable(i)]
    if len(items) < MIN_LIST_ITEMS:
        return False
    tokens = segmenter().cut(unit_text)
    if not tokens:
        return False
    share = sum(1 for t in tokens if is_function_word(t)) / len(tokens)
    return share < MIN_FUNCTION_SHARE


# --- gibberish -----------------------------------------------------------------------------

_VOWELS = set("aeiouy")
GIBBERISH_SAMPLE = 200


def is_gibberish(answer: str) -> bool:
    # The first part of an answer tells gibberish from prose as well as all of it does.
    answer = answer[: GIBBERISH_SAMPLE * 5]
    text = comparable(answer)
    if len(text) < 6:
        return False
    letters = sum(1 for c in text if c.isalpha())
    if letters / len(text) < 0.5:
        return True  # mostly symbols or digits
    trigrams = [text[i : i + 3] for i in range(len(text) - 2)]
    if len(text) >= 20 and len(set(trigrams)) / len(trigrams) < 0.25:
        return True  # one short pattern repeated
    han = han_count(answer)
    if han >= 8:
        # The first few hundred characters tell gibberish from prose as well as all of them.
        sample = re.sub(r"[^\u4e00-\u9fff]", " ", answer[:GIBBERISH_SAMPLE])
        han = max(1, han_count(sample))
        words = segmenter().cut(sample, hmm=False)
        in_words = sum(len(w) for w in words if len(w) >= 2)
        if in_words / han < 0.3:
            return True  # characters that form no words
    words_en = [w.casefold() for w in latin_words(answer) if len(w) >= 3]
    if len(words_en) >= 4 and han < len(words_en):
        odd = sum(1 for w in words_en if _odd_word(w))
        if odd / len(words_en) > 0.4:
            return True
    return False


def _odd_word(word: str) -> bool:
    if not any(c in _VOWELS for c in word):
        return True
    run = 0
    for c in word:
        run = 0 if (c in _VOWELS or not c.isalpha()) else run + 1
        if run >= 5:
            return True
    return False


# --- the report ------------------------------------------------------------------------------

EMPTY_CHARS = 6
OFF_TOPIC_SIMILARITY = 0.25


@dataclass
class GuardReport:
    """What the guards found and which units of the answer may earn credit."""

    flags: list[Flag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)  # every unit of the answer
    usable: list[Unit] = field(default_factory=list)  # units that may earn credit
    relevance: float | None = None  # similarity to the question and rubric, when measured

    @property
    def blocked(self) -> bool:
        """No part of the answer can earn credit."""
        return bool({"empty", "gibberish", "off_topic"} & set(self.flags)) or not self.usable

    def flag(self, flag: Flag, note: str) -> None:
        if flag not in self.flags:
            self.flags.append(flag)
            self.notes.append(note)


def rubric_texts(question: Question, rubric: Rubric) -> list[str]:
    """What an on-topic answer is close to: the prompt, key points, reference sentences."""
    texts = [question.prompt.zh, question.prompt.en]
    for kp in rubric.key_points:
        texts += [kp.text.zh, kp.text.en]
    for ref in (rubric.reference_answer.zh, rubric.reference_answer.en):
        texts += [u.text for u in split_units(ref) if u.kind == "sentence"]
    return texts


def rubric_terms(rubric: Rubric) -> list[str]:
    return [t for kp in rubric.key_points for t in kp.evidence.terms()]


def run_guards(question: Question, rubric: Rubric, answer: str, encoder: Encoder) -> GuardReport:
    report = GuardReport(units=split_units(answer))
    if len(comparable(answer)) < EMPTY_CHARS:
        report.flag("empty", "the answer is empty or nearly so")
        return report
    if is_gibberish(answer):
        report.flag("gibberish", "the answer is not readable text")
        return report

    # Only terms found in the whole answer can be found in a part of it: matching the few
    # found against each sentence costs much less than matching every rubric term again.
    terms = list(dict.fromkeys(find_terms(rubric_terms(rubric), answer)))
    for unit in report.units:
        if is_injection(unit.text):
            report.flag("injection", f"instruction aimed at the grader: {unit.text[:60]!r}")
            continue
        # A list of rubric terms is stuffing; a terse run of other words is just prose.
        if (
            unit.kind == "sentence"
            and len(terms) >= 2
            and len(find_terms(terms, unit.text)) >= 2
            and is_keyword_list(unit.text)
        ):
            report.flag("keyword_stuffing", f"a list of terms, not statements: {unit.text[:60]!r}")
            continue
        report.usable.append(unit)
    # Clauses of a blocked sentence are blocked too.
    blocked = [u for u in report.units if u.kind == "sentence" and u not in report.usable]
    report.usable = [
        u for u in report.usable if not any(b.start <= u.start and u.end <= b.end for b in blocked)
    ]

    if report.usable:
        # Off-topic needs both: few evidence terms and low similarity. The term count is
        # cheap, so the embedding (one of everything usable, not one per sentence) is only
        # computed when the terms leave the question open.
        hits = find_terms(terms, " ".join(u.text for u in report.usable))
        if len(set(hits)) <= 1:
            usable_text = " ".join(u.text for u in report.usable if u.kind == "sentence")
            sims = encoder.similarity([usable_text], rubric_texts(question, rubric))
            report.relevance = float(np.max(sims))
            if report.relevance < OFF_TOPIC_SIMILARITY:
                report.flag("off_topic", "the answer is far from the question and every key point")
    return report
