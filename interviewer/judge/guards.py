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
from functools import lru_cache

import numpy as np

from interviewer.bank.schema import Question, Rubric
from interviewer.judge.adhoc import is_adhoc
from interviewer.judge.embed import Encoder
from interviewer.judge.features import content_words
from interviewer.judge.normalize import comparable, nfkc
from interviewer.judge.prepared import PreparedAnswer, strip_invisible
from interviewer.judge.schema import Flag
from interviewer.judge.text import (
    Unit,
    cached_on_words,
    find_terms,
    han_count,
    is_function_word,
    latin_words,
    segmenter,
    split_units,
)

# --- instructions aimed at the grader ---------------------------------------------------
#
# Text addressed to the grader: imperatives about grading this answer, role claims aimed at
# the judge, forged prompt structure. Not evaluation vocabulary: an answer about RLHF, LLM
# judges or benchmarks says "judge", "score", "满分" and "override" in plain statements, and
# every reference answer and key point of the bank must pass (tests/judge/test_guards.py).

_THIS_ANSWER_EN = r"(this|the|my|our)\s+(answer|response|submission|reply)"
_THIS_ANSWER_ZH = r"(本|这个|这份|该|此|我的?|以上|上述)(答案|回答|作答|答卷)"
_GRADER_EN = r"(grader|judge|evaluator|examiner|assessor|scorer|grading model|ai grader)"
_FULL_EN = (
    r"(full (marks|score|points|credit)|100\s*(/\s*100|%|points?)|a perfect score|"
    r"maximum (score|marks|points)|top marks|perfect marks)"
)
# Grading imperatives: aimed at this answer's grade, whether quoted or not.
_GRADING_EN = [
    r"\b(give|award|assign|grant)\s+(this|the|my|me|it|us|him|her|them)\b[^.!?\n]{0,30}" + _FULL_EN,
    r"\b(give|award|assign|grant)\s+" + _FULL_EN,
    r"\b(rate|score|mark|grade)\s+" + _THIS_ANSWER_EN + r"\b[^.!?\n]{0,20}(100|full|perfect|"
    r"correct|as covered)",
    _THIS_ANSWER_EN + r"\s+(deserves|should (get|receive|be given|score)|must (get|receive|score))"
    r"[^.!?\n]{0,20}(100|full|perfect|maximum|top)",
    r"\bmark (all|every|each) (the )?key ?points?\b",
    r"\b(all|every) (the )?key ?points? (are|is|were|have been) (covered|met|satisfied)\b",
    r"\bscore\s*[:=]\s*100\b",
    r"\"(score|verdict)\"\s*:\s*(100|\"covered\")",
    r"\b(approved|eligible|qualifies|qualified)\s+for\s+(full|top|maximum|perfect)\s+"
    r"(marks|score|points|credit)\b",
    r"\bcovered\s+for\s+(all|every|each)\s+(the\s+)?key ?points?\b",
    r"\btreat\s+(all|every|each)\s+(the\s+)?key ?points?\s+as\s+(covered|met|satisfied)\b",
    r"\b(return|output|give|assign|report)\s+(a\s+|the\s+)?score\s+of\s+100\b",
    r"\b(self[- ]?(score|grade|assessment)|self-graded)\s*[:：]?\s*100\b",
]
_GRADING_ZH = [
    r"(判定|认定|判为|判|评为|评|打|给)[^。！？\n]{0,6}" + _THIS_ANSWER_ZH + r"[^。！？\n]{0,10}"
    r"(满分|100\s*分?|一百分|最高分|全对|全部覆盖)",
    _THIS_ANSWER_ZH
    + r"[^。！？\n]{0,10}(应该?|应当|必须|请|直接)?[^。！？\n]{0,4}(得|给|打|判|评|记)"
    r"[^。！？\n]{0,4}(满分|100\s*分?|一百分|最高分|全对)",
    r"(请|直接|务必|一定要)[^。！？\n]{0,6}(给|打|判|评)[^。！？\n]{0,4}(满分|100\s*分|一百分|最高分|全对)",
    r"(给|打)(我|它|本题|这题)?[^。！？\n]{0,2}满分",
    r"(所有|全部|每个)(的)?(要点|关键点|得分点|key\s*point)[^。！？\n]{0,8}(都)?(已)?"
    r"(覆盖|covered|满足|得分|通过)",
    _THIS_ANSWER_ZH
    + r"[^。！？\n]{0,6}(覆盖|包含|涵盖|命中)了?(全部|所有)(的)?(要点|关键点|得分点)",
    r"(回答结束|答案结束|作答结束|评分说明|评分指令)\s*[:：\]】>]",
    r"(要点|关键点|得分点)[^。！？\n]{0,4}(全部|都|均|全都)(已)?(被)?(覆盖|满足|命中|答到)",
    r"自评\s*[:：]?\s*(100|满分|一百)",
    r"(评分模型|评分者|评分员|阅卷人|打分模型|评委|考官)[^。！？\n]{0,10}(采用|使用|沿用|照搬|直接给)"
    r"[^。！？\n]{0,4}(此|这个|该|我的)?(分数|得分|评分)",
]
# Generic instructions and role or structure claims: an answer about prompt injection
# quotes them ("直接注入是用户输入‘忽略之前的指令’"), so inside quotation marks, with the
# answer's own words around them, they are mentioned, not used.
_GENERIC_EN = [
    r"\b(ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}\b(instructions?|rules|rubric|"
    r"system prompt|guidelines|grading criteria|scoring criteria)\b",
    r"\b(ignore|disregard|forget)\s+(all\s+)?(of\s+)?(the\s+)?(above|previous|prior|earlier)\b",
    r"\b(you are|you're)\s+(now\s+)?(the\s+|an?\s+)?" + _GRADER_EN + r"\b(?!['’])",
    r"\b(act|acting)\s+as\s+(the\s+|an?\s+)?" + _GRADER_EN + r"\b",
    r"\bas\s+(the\s+|an?\s+)?" + _GRADER_EN + r"\s*,\s*(you|please|give|award|mark|score)\b",
    r"\b(dear|attention)\s+(the\s+)?" + _GRADER_EN + r"\b",
    r"(^|\n)\s*\W*(system|developer|assistant)( prompt| message| instructions?)?\s*[:：]"
    r"[^\n]{0,120}\b(score|grade|mark|marks|points|rubric|key ?points?|covered|answer)\b",
    r"\bnew instructions?\s*[:：]",
    r"\b(grader|judge|evaluator|examiner|scorer)('s)?\s*(note|notice|instructions?)?\s*[:：]",
    r"\[\s*(system|developer|admin|grader|judge)\s*\]",
    r"\b(note|message|instructions?)\s+(to|for)\s+(the\s+)?(evaluating\s+|grading\s+|scoring\s+)?"
    r"(model|grader|judge|evaluator|llm|ai)\b",
    r"(</?\s*(answer|candidate_answer|student_answer|system|instructions?)\s*>|"
    r"\bend of (the )?(candidate'?s? )?(answer|response|submission)\b)",
]
_GENERIC_ZH = [
    r"(忽略|无视|忽视|不要理会|不用管|绕过)[^。！？\n]{0,12}(指令|指示|规则|评分标准|评分规则|评分要求|"
    r"提示词|系统提示|(以上|上面|之前|前面)的?(所有)?(要求|内容|指令|说明))",
    r"(你|您)(现在)?(是|作为|扮演)[^。！？\n]{0,6}(评分|评委|裁判|考官|阅卷|打分|评估|判分)",
    r"作为(评分者|评分员|评委|裁判|考官|阅卷人|打分者|评估者)[，,]\s*(你|请|务必)",
    r"(^|\n)\s*\W*(系统提示|系统指令|系统消息)\s*[:：]",
]
_GRADING = [re.compile(p, re.IGNORECASE) for p in (*_GRADING_EN, *_GRADING_ZH)]
_GENERIC = [re.compile(p, re.IGNORECASE) for p in (*_GENERIC_EN, *_GENERIC_ZH)]
_QUOTED = re.compile(
    r"\"[^\"\n]{1,200}\"|“[^”\n]{1,200}”|「[^」\n]{1,200}」|『[^』\n]{1,200}』|‘[^’\n]{1,200}’"
)


def is_injection(text: str) -> bool:
    """Whether `text` addresses the grader (see the pattern lists above)."""
    return _addresses_grader(nfkc(strip_invisible(text)))


def _addresses_grader(t: str) -> bool:
    """`is_injection` on text already without invisible characters and normalised."""
    if any(p.search(t) for p in _GRADING):
        return True
    unquoted = _QUOTED.sub(" ", t)
    said = unquoted if comparable(unquoted) else t  # all quoted: it is what the answer says
    return any(p.search(said) for p in _GENERIC)


# --- statements versus keyword lists -------------------------------------------------------

_LIST_SPLIT = re.compile(r"[\s,，、/;；|]+")
MIN_LIST_ITEMS = 6
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

_HAS_CONTENT = re.compile(r"[^\W_]")  # a letter, digit or CJK character
# Fillers and "I don't know" alone: no content, however long. A short answer ("Push.",
# "O(n)", "No", "One") is an answer and goes to the judge.
_NON_ANSWER = re.compile(
    r"[\W_]*((嗯|啊|呃|哦|额|唔|hmm+|um+|uh+|er+m?)[\W_]*)*"
    r"((我)?(也)?(真的|确实)?(不知道|不清楚|不太清楚|不懂|忘了|没学过|不会答|答不上来)|"
    r"idk|dunno|no idea|"
    r"i (really )?(don'?t|do not) know|not sure|pass|跳过)?[\W_]*((嗯|啊|呃|哦|额)[\W_]*)*"
)
OFF_TOPIC_MIN_WORDS = 6
# A keyword list is stuffing when it names many rubric terms and they make up most of it.
# Measured on the bank: no sentence of a reference answer or key point reaches both (the
# negative corpus, tests/judge/test_negative_corpus.py); the calibration set's keyword
# lists mostly do, and those that do not still earn little from the verdict model.
STUFFING_MIN_TERMS = 10
STUFFING_TERM_SHARE = 0.75
OFF_TOPIC_SIMILARITY = 0.25


# Flags that zero the whole answer. An instruction aimed at the grader anywhere in an
# answer voids all of it (the calibration set's policy): the rest cannot be trusted to be
# the candidate's own account rather than bait around the instruction.
BLOCKING = frozenset({"empty", "gibberish", "off_topic", "injection"})


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
        return bool(BLOCKING & set(self.flags)) or not self.usable

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


def read_rubric(question: Question, rubric: Rubric) -> None:
    """Read the rubric's words now (its content words beyond the question, whether its
    reference is a list), as the guards will on its first answer. Batch grading does it in
    the parent process, once, before the workers start, which are forked with them read."""
    _rubric_words(question, rubric)
    _reference_is_a_list(rubric)


def _rubric_words(question: Question, rubric: Rubric) -> frozenset[str]:
    texts = [kp.text.zh + " " + kp.text.en for kp in rubric.key_points]
    texts += [rubric.reference_answer.zh, rubric.reference_answer.en]
    return _words_beyond(question.prompt.zh + " " + question.prompt.en, tuple(texts))


@cached_on_words
@lru_cache(maxsize=1024)
def _words_beyond(question: str, texts: tuple[str, ...]) -> frozenset[str]:
    """The content words of `texts` that the question does not already use (per rubric,
    computed once)."""
    q = set(content_words(question))
    return frozenset(w for t in texts for w in content_words(t) if w not in q)


def _term_share(found: list[str], text: str) -> float:
    """How much of `text` (in comparable characters) the rubric terms found in it make up:
    a bag of terms is mostly terms; a sentence that says something about them is not."""
    total = len(comparable(text))
    covered = sum(len(comparable(t)) for t in {comparable(t): t for t in found}.values())
    return min(1.0, covered / total) if total else 0.0


def _mostly_in(text: str, words: frozenset[str]) -> bool:
    """Most of `text`'s content words are in `words`: a list that matches the reference of
    an ad-hoc rubric is the answer, not stuffing (the candidate never saw the reference)."""
    mine = content_words(text)
    return bool(mine) and sum(1 for w in mine if w in words) >= 0.6 * len(mine)


_ITEM_SPLIT_ZH = re.compile(r"[、/|]")  # in Chinese a comma ends a clause; 、 separates items
_ITEM_SPLIT_EN = re.compile(r"[,;/|]")
LIST_RUN_ITEMS = 8  # items in a row, each a few words at most
ITEM_CHARS = 16


def _list_run(text: str) -> str:
    """The longest run of short items in a row in `text` (separated by 、 in Chinese, by
    commas in other text), joined again; empty when shorter than LIST_RUN_ITEMS."""
    split = _ITEM_SPLIT_ZH if han_count(text) else _ITEM_SPLIT_EN
    best: list[str] = []
    run: list[str] = []
    for item in split.split(text):
        if 0 < len(comparable(item)) <= ITEM_CHARS:
            run.append(item)
            if len(run) > len(best):
                best = list(run)
        else:
            run = [item] if comparable(item) else []  # a long item can end a sentence's lead
    return "、".join(best) if len(best) >= LIST_RUN_ITEMS else ""


def _names_the_whole_rubric(text: str, rubric: Rubric) -> bool:
    """A run of terms that names most of the rubric's key points in one breath (sentence-
    shaped stuffing: "涵盖了 A、B、C、D、E、F、G、H 等关键方面"). An honest list names the
    few things one key point asks for (libraries, commands)."""
    run = _list_run(text)
    if not run:
        return False
    named = sum(1 for kp in rubric.key_points if find_terms(kp.evidence.terms(), run))
    return named >= max(4, (len(rubric.key_points) + 1) // 2 + 1)


def _reference_is_a_list(rubric: Rubric) -> bool:
    texts = [rubric.reference_answer.zh, rubric.reference_answer.en]
    texts += [t for kp in rubric.key_points for t in (kp.text.zh, kp.text.en)]
    return _is_list_reference(is_adhoc(rubric.question_id), tuple(texts))


@lru_cache(maxsize=1024)
def _is_list_reference(adhoc: bool, texts: tuple[str, ...]) -> bool:
    """A reference that is itself a run of terms ("push, pop, peek, isEmpty"): an answer in
    the same shape is an answer, not keyword stuffing. An ad-hoc reference is the answer key
    itself, so a list in any of its sentences counts; a bank reference (the first two
    texts) counts when most of its sentences are lists (a key point that names a few items
    in passing does not)."""
    if adhoc:
        return any(is_keyword_list(t) for t in texts) or any(
            is_keyword_list(u.text) for t in texts for u in split_units(t)
        )
    for ref in texts[:2]:
        sentences = [u.text for u in split_units(ref) if u.kind == "sentence"]
        if sentences and sum(map(is_keyword_list, sentences)) * 2 >= len(sentences):
            return True
    return False


def run_guards(
    question: Question, rubric: Rubric, answer: str | PreparedAnswer, encoder: Encoder
) -> GuardReport:
    """Flag what cannot earn credit and keep the units that can. The units are those of the
    prepared answer: spans of its text, the answer without invisible characters."""
    prepared = PreparedAnswer.of(answer)
    report = GuardReport(units=list(prepared.units))
    normalised = prepared.normalised
    if not _HAS_CONTENT.search(normalised) or _NON_ANSWER.fullmatch(normalised.casefold()):
        report.flag("empty", "the answer has no words or numbers, or only says it does not know")
        return report
    rubric_words = _rubric_words(question, rubric)
    shared = len(rubric_words & frozenset(prepared.words))
    if shared < 2 and is_gibberish(prepared.text):
        report.flag("gibberish", "the answer is not readable text")
        return report

    # Only terms found in the whole answer can be found in a part of it: matching the few
    # found against each sentence costs much less than matching every rubric term again.
    terms = list(dict.fromkeys(prepared.find_terms(rubric_terms(rubric))))
    list_ok = len(terms) >= 2 and _reference_is_a_list(rubric)
    adhoc = is_adhoc(rubric.question_id)
    question_words = frozenset(content_words(question.prompt.zh + " " + question.prompt.en))
    for unit in report.units:
        if _addresses_grader(nfkc(unit.text)):  # (the text has no invisible characters)
            report.flag("injection", f"instruction aimed at the grader: {unit.text[:60]!r}")
            continue
        # A list of rubric terms is stuffing; a terse run of other words is just prose, and
        # a list is the answer when the reference itself is one.
        if (
            unit.kind == "sentence"
            and not list_ok
            and len(terms) >= 2
            and len(found := find_terms(terms, unit.text)) >= STUFFING_MIN_TERMS
            and is_keyword_list(unit.text)
            and _term_share(found, unit.text) >= STUFFING_TERM_SHARE
            and not (adhoc and _mostly_in(unit.text, rubric_words | question_words))
        ) or (
            unit.kind == "sentence"
            and not list_ok
            and not adhoc
            and _names_the_whole_rubric(unit.text, rubric)
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
        # Off-topic needs all of: enough words to tell (a short answer is judged by the
        # model, not blocked), at most one rubric term or word in common, and a meaning far
        # from the question and every key point. The embedding is only computed when the
        # words leave the question open.
        usable_text = " ".join(u.text for u in report.usable if u.kind == "sentence")
        words = content_words(usable_text)
        hits = find_terms(terms, usable_text)
        common = len(rubric_words & frozenset(words))
        if len(words) >= OFF_TOPIC_MIN_WORDS and len(set(hits)) <= 1 and common <= 1:
            sims = encoder.similarity([usable_text], rubric_texts(question, rubric))
            report.relevance = float(np.max(sims))
            if report.relevance < OFF_TOPIC_SIMILARITY:
                report.flag("off_topic", "the answer is far from the question and every key point")
    return report
