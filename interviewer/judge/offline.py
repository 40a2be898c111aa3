"""The offline judge: no network, no key, the same grade every time.

For each key point it computes features of the answer against the key point's statement
(meaning through multilingual sentence embeddings, words through stems, jieba words and
character bigrams, the key point's evidence terms; see `judge/features.py`) and a fitted
logistic model (`judge/verdict_model.py`) turns them into the probability that the answer
states it: covered above one threshold, partial above another. The model was fitted on
real graded answers and the calibration set's tuning half (`python -m
benchmarks.fit_offline`); bank rubrics and ad-hoc rubrics (a reference answer) go through
the same model. The evidence quote is the unit of the answer closest to the key point.

Misconceptions are found by meaning or by their evidence phrases, and a sentence that
negates the claim ("不会增加推理延迟", "does not add latency") or moves the quantity the
other way does not make it. A unit that states a misconception earns no credit.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import numpy as np

from interviewer.bank.schema import KeyPoint, Misconception, Question, Rubric
from interviewer.judge.adhoc import is_adhoc
from interviewer.judge.embed import Encoder, encoder
from interviewer.judge.features import (
    answer_against,
    answer_side,
    content_words,
    question_side,
    soft_words,
    target_features,
)
from interviewer.judge.framing import reports_a_mistake
from interviewer.judge.guards import (
    GuardReport,
    read_rubric,
    rubric_terms,
    rubric_texts,
    run_guards,
)
from interviewer.judge.negation import aimed, negation_count
from interviewer.judge.normalize import nfkc
from interviewer.judge.prepared import PreparedAnswer
from interviewer.judge.roles import bound_like_correction
from interviewer.judge.schema import Grade, MisconceptionFound, Verdict, VerdictLabel
from interviewer.judge.scoring import score
from interviewer.judge.text import (
    HAN,
    Unit,
    cached_on_words,
    segmenter,
    split_units,
    word_list,
)
from interviewer.judge.verdict_model import VerdictModel, load_model

DIRECTION_UP = word_list("direction_up")
DIRECTION_DOWN = word_list("direction_down")


@dataclass
class Match:
    """The verdict model's reading of one key point: its probability and the unit to quote."""

    p: float
    unit: Unit | None
    features: np.ndarray | None = None


GUARD_VERSION = "7"  # bump when the guards or the misconception reading change a grade
# A statement this close to a key point or a sentence of the reference answer says what it
# says: an evidence phrase found in it (a gap allowed) does not make it the claim.
SAYS_WHAT_IS_RIGHT = 0.9


@dataclass
class OfflineJudge:
    """Grades an answer against a rubric with one fitted verdict model (judge/features.py,
    judge/verdict_model.py) for bank and ad-hoc rubrics alike."""

    model: VerdictModel = field(default_factory=load_model)
    encoder: Encoder = field(default_factory=encoder)
    spec: str = "offline"

    @property
    def fingerprint(self) -> str:
        """Which judge made a grade: the fitted parameters, the guards, the package."""
        return f"offline/{self.model.fingerprint}/g{GUARD_VERSION}/{_package_version()}"

    def warm_up(self) -> None:
        """Load the model and the segmenter now rather than on the first answer."""
        self.encoder.load()
        segmenter().cut("预热")
        content_words("warm up 预热")

    def prepare(self, question: Question, rubric: Rubric) -> None:
        """Embed the rubric's own texts now (key points, claims, reference), so that grading
        an answer to it only embeds the answer. Cheap to call again: embeddings are cached."""
        self.encoder.encode(_own_texts(question, rubric))

    def prepare_all(
        self, pairs: list[tuple[Question, Rubric]]
    ) -> dict[str, np.ndarray[Any, np.dtype[np.float32]]]:
        """Prepare many rubrics through the on-disk store of rubric embeddings; returns the
        vectors, which worker processes take with `encoder.seed`. Their words are read here
        too (`guards.read_rubric`, the misconceptions' phrases), once: worker processes
        forked after this start with them read."""
        for q, r in pairs:
            read_rubric(q, r)
            for m in r.misconceptions:
                for phrase in m.evidence.terms():
                    _phrase_tokens(phrase)
        return self.encoder.encode_stored([t for q, r in pairs for t in _own_texts(q, r)])

    def prefetch(self, answers: Sequence[str | PreparedAnswer]) -> None:
        """Embed the units of many answers in one call, before grading them one by one.

        An encoder call has a fixed cost of a few milliseconds and works better on more
        tokens at once, so a batch of answers encoded together grades about twice as fast.
        """
        texts: list[str] = []
        for a in answers:
            units = PreparedAnswer.of(a).units
            texts += [*(u.text for u in units), *soft_words(_judged_text(units))]
            # the statements read for misconceptions (sentences joined across semicolons)
            texts += [u.text for u in _statements(list(units)) if u.kind == "sentence"]
        self.encoder.encode(texts)

    def learn_terms(self, rubrics: list[Rubric]) -> None:
        """Add every evidence term of the bank to the segmenter's dictionary."""
        segmenter().add_terms(t for r in rubrics for t in rubric_terms(r))

    async def agrade(
        self, question: Question, rubric: Rubric, answer: str | PreparedAnswer
    ) -> Grade:
        return await asyncio.to_thread(self.grade, question, rubric, answer)

    def grade(self, question: Question, rubric: Rubric, answer: str | PreparedAnswer) -> Grade:
        """Grade `answer`, prepared here once (or as it was prepared by the caller)."""
        started = time.perf_counter()
        report, found, matches = self.analyse(question, rubric, PreparedAnswer.of(answer))
        if matches is None:
            reason = _blocked_reason(report)
            verdicts = [
                Verdict(key_point=kp.id, verdict="missed", reason=reason)
                for kp in rubric.key_points
            ]
        else:
            verdicts = [
                self._verdict(kp, m) for kp, m in zip(rubric.key_points, matches, strict=True)
            ]
        return Grade(
            verdicts=verdicts,
            misconceptions=found,
            flags=list(report.flags),
            notes=list(report.notes),
            score=score(rubric, verdicts, found),
            judge=self.spec,
            fingerprint=self.fingerprint,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def analyse(
        self, question: Question, rubric: Rubric, answer: str | PreparedAnswer
    ) -> tuple[GuardReport, list[MisconceptionFound], list[Match] | None]:
        """Guards, misconceptions, and per key point the model's probability and the unit to
        quote. The matches are None when the guards leave nothing that can earn credit.
        """
        report = run_guards(question, rubric, PreparedAnswer.of(answer), self.encoder)
        if report.blocked:
            return report, [], None
        found, wrong_units = self._misconceptions(question, rubric, report.usable)
        # A unit that states a misconception earns nothing, and neither does the sentence
        # around it or a clause inside it.
        units = [
            u
            for u in report.usable
            if not any(
                (w.start <= u.start and u.end <= w.end) or (u.start <= w.start and w.end <= u.end)
                for w in wrong_units
            )
        ]
        return report, found, self.matches(question, rubric.key_points, units)

    def _verdict(self, kp: KeyPoint, match: Match) -> Verdict:
        label = self.label(match.p)
        credit = self.model.credit(match.p)
        if label == "missed" or match.unit is None:
            return Verdict(key_point=kp.id, verdict="missed", reason=_why(match), credit=credit)
        return Verdict(
            key_point=kp.id,
            verdict=label,
            evidence=match.unit.text,
            reason=_why(match),
            credit=credit,
        )

    def matches(
        self, question: Question, key_points: list[KeyPoint], units: list[Unit]
    ) -> list[Match]:
        """Per key point: the verdict model's probability, and the unit that states it best."""
        if not units:
            return [Match(0.0, None) for _ in key_points]
        # The answer as the verdict model reads it: the sentences that may earn credit.
        judged = PreparedAnswer.of(_judged_text(units))
        side = answer_side(judged, units, self.encoder)
        by_text = {u.text: u for u in units}
        q_side = question_side(_question_text(question), self.encoder)
        reference = is_adhoc(question.id)  # key points cut from a reference answer
        against = answer_against(side, q_side)
        out = []
        for kp in key_points:
            targets = list(dict.fromkeys((kp.text.zh, kp.text.en)))
            x, best = target_features(
                side, targets, kp.evidence.terms(), q_side, self.encoder, reference, against
            )
            unit = by_text.get(side.unit_texts[best])
            p = self.model.probability(x)
            if any(_states_verbatim(t, judged) for t in targets):
                p = 1.0  # the statement itself, word for word ("O(n)" for "O(n)")
            out.append(Match(p, unit, x))
        return out

    def label(self, p: float) -> VerdictLabel:
        if p >= self.model.covered_at:
            return "covered"
        if p >= self.model.partial_at:
            return "partial"
        return "missed"

    # --- misconceptions -------------------------------------------------------------------

    def _misconceptions(
        self, question: Question, rubric: Rubric, units: list[Unit]
    ) -> tuple[list[MisconceptionFound], set[Unit]]:
        """The misconceptions the answer asserts, and the units that assert them.

        A statement asserts a claim when it has one of the claim's evidence phrases, or is
        close to the claim and closer to it by a margin than to the claim's own correction,
        to every key point and to every sentence of the reference answer (a correct sentence
        worded like the claim is closer to what is right), and does not say the quantity goes
        the other way or deny the claim. The margin guards a match by similarity only:
        embeddings put a claim and its correction close, but an evidence phrase is the
        claim's own wording. Negation words are a weak sign ("没问题", "no need to worry"
        deny nothing), so a denial counts only while the statement's lead over what is right
        stays below a second margin, or, against a claim with no negation of its own, where
        the negation falls on the claim's own words.
        A statement that shares none of the claim's own words (its content words the question
        does not use; against a claim with none, every statement) needs a higher similarity,
        and one that frames what it says as a mistake ("a common misunderstanding is that
        ...") reports the claim rather than asserting it.
        """
        misconceptions = rubric.misconceptions
        found: list[MisconceptionFound] = []
        wrong: set[Unit] = set()
        if not misconceptions or not units:
            return found, wrong
        claims = [_claim(m.text.zh) for m in misconceptions] + [
            _claim(m.text.en) for m in misconceptions
        ]
        rights = [_correction(m.text.zh) for m in misconceptions] + [
            _correction(m.text.en) for m in misconceptions
        ]
        facts = [t for kp in rubric.key_points for t in (kp.text.zh, kp.text.en)]
        facts += _reference_sentences(rubric.reference_answer.zh, rubric.reference_answer.en)
        units = _statements(units)
        texts = [u.text for u in units]
        sims = self.encoder.similarity(texts, claims)
        right_sims = self.encoder.similarity(texts, rights)
        fact_sims = self.encoder.similarity(texts, facts)
        # which of what is right are one-sentence denials (read per claim below)
        fact_denies = [_denies(t) for t in facts]
        right_denies = [_denies(t) for t in rights]
        n = len(misconceptions)
        margin = self.model.misconception_margin
        # A sentence of several clauses is judged by the clause closest to the claim: in
        # "X doesn't help at inference; there's no backward pass", the first clause denies
        # the claim, and the second clause's negation must not cancel it out. Not when the
        # claim has negations and the sentence as many: "SFT data is too small to carry test
        # items" in the sentence stands where "fine-tuning data cannot" stands in the claim.
        clauses = {
            i: [
                k
                for k, c in enumerate(units)
                if c.kind == "clause" and u.start <= c.start and c.end <= u.end
            ]
            for i, u in enumerate(units)
            if u.kind == "sentence"
        }
        # Each statement is read against the claim it leads most (by its evidence phrase, or
        # close enough and nearer the claim than what is right); a statement that says the
        # opposite of that claim or denies it asserts no other claim.
        best: dict[int, tuple[float, int, tuple[int, int, str] | None]] = {}
        asked = frozenset(content_words(_question_text(question)))
        own = [frozenset(content_words(c)) - asked for c in claims]
        words = [frozenset(content_words(t)) for t in texts]
        for j, mc in enumerate(misconceptions):
            for i, unit in enumerate(units):
                if unit.kind != "sentence":
                    continue  # clauses are read only to find the one that denies
                hit = _phrase_hit(mc, unit.text)
                sim = float(max(sims[i, j], sims[i, n + j]))
                if hit is None and sim < self.model.misconception_similarity:
                    continue
                shared = not words[i].isdisjoint(own[j] | own[n + j])
                if (
                    hit is None
                    and sim < self.model.misconception_unshared_similarity
                    and not shared
                ):
                    continue  # close in tone, but none of the claim's own words
                claim = claims[j] if _is_han(unit.text) else claims[n + j]
                anchors = np.append(fact_sims[i], (right_sims[i, j], right_sims[i, n + j]))
                if shared and not negation_count(claim) and not negation_count(unit.text):
                    # A plain statement in the claim's words ("fp16 is a kind of
                    # quantisation"): a sentence of what is right that denies something in
                    # one negation ("fp16 is half-precision floats, not quantisation") and is
                    # no nearer the statement than the claim is, is the claim's denial, which
                    # embeddings put beside it: no anchor.
                    deny = np.array([*fact_denies, right_denies[j], right_denies[n + j]])
                    anchors = np.where(deny & (anchors <= sim), -1.0, anchors)
                anchor = float(anchors.max())
                lead = sim - anchor
                if hit is not None and anchor >= SAYS_WHAT_IS_RIGHT:
                    continue  # all but word for word a sentence of what is right ("B 初始化为
                    # 零、A 随机初始化" holds the phrase "B 随机初始化" with a gap)
                if hit is None and lead < margin:
                    continue  # as close to what is right as to the claim, by similarity alone
                if i not in best or lead > best[i][0]:
                    best[i] = (lead, j, hit)
        for i, (lead, j, hit) in sorted(best.items()):
            mc, unit = misconceptions[j], units[i]
            claim = claims[j] if _is_han(unit.text) else claims[n + j]
            said = unit.text
            if (
                hit is None
                and clauses.get(i)
                and not (
                    negation_count(claim) and negation_count(unit.text) == negation_count(claim)
                )
            ):
                k = max(clauses[i], key=lambda k: float(max(sims[k, j], sims[k, n + j])))
                said = units[k].text
            if _denied(said, hit, claim) and (
                lead < self.model.misconception_denial_lead
                or (not negation_count(claim) and aimed(said, own[j] | own[n + j]))
            ):
                continue  # a denial, unless it reads far more like the claim than the truth
                # ("no need to worry about injection, we filter the input") and its negation
                # falls on none of the claim's own words ("the bias does not scale the
                # weights" against "the bias also enters the weights")
            if reports_a_mistake(unit.text):
                continue  # "a common misunderstanding is that ...": named to be rejected
            if hit is None and _opposite(unit.text, claim):
                continue  # close in meaning, but it says the quantity goes the other way
            right = rights[j] if _is_han(unit.text) else rights[n + j]
            if bound_like_correction(unit.text, claim, right):
                continue  # the claim's words, paired as its correction pairs them
                # ("B is zero and A random" against "A is zero and B random")
            if all(f.id != mc.id for f in found):
                found.append(MisconceptionFound(id=mc.id, evidence=unit.text, penalty=mc.penalty))
            wrong.add(unit)
        return found, wrong


# --- helpers ------------------------------------------------------------------------------------


def _own_texts(question: Question, rubric: Rubric) -> list[str]:
    """Every text of the rubric the judge embeds: prompt, key points and their content
    words (the soft recall), reference sentences, misconception claims."""
    texts = rubric_texts(question, rubric)
    texts.append(_question_text(question))
    texts += [
        w for kp in rubric.key_points for t in (kp.text.zh, kp.text.en) for w in content_words(t)
    ]
    texts += [_claim(t) for m in rubric.misconceptions for t in (m.text.zh, m.text.en)]
    texts += [_correction(t) for m in rubric.misconceptions for t in (m.text.zh, m.text.en)]
    return texts


@lru_cache(maxsize=1024)
def _reference_sentences(*references: str) -> tuple[str, ...]:
    """The sentences of the reference answers: what is right, beside the key points."""
    return tuple(u.text for ref in references for u in split_units(ref) if u.kind == "sentence")


def _statements(units: list[Unit]) -> list[Unit]:
    """Sentences joined across semicolons, and the clauses in them. "Moving weights to the CPU
    is offloading; checkpointing keeps the weights" is one statement: its first half alone
    reads like the claim "checkpointing moves the weights to the CPU"."""
    out: list[Unit] = []
    group: list[Unit] = []

    def close() -> None:
        if group:
            text = "".join(
                (" " if k and u.start > group[k - 1].end else "") + u.text
                for k, u in enumerate(group)
            )
            out.append(Unit(group[0].start, group[-1].end, text, "sentence"))
            group.clear()

    for u in units:
        if u.kind != "sentence":
            continue
        group.append(u)
        if not u.text.rstrip().endswith(("；", ";")):
            close()
    close()
    return out + [u for u in units if u.kind == "clause"]


def _claim(text: str) -> str:
    """The wrong claim itself: the correction in parentheses removed."""
    return _parenthesised(text)[0] or text


def _correction(text: str) -> str:
    """The correction a misconception's text gives in parentheses (else the claim itself,
    which makes the margin against it zero: only the key points then anchor)."""
    return " ".join(_parenthesised(text)[1]) or _claim(text)


@lru_cache(maxsize=4096)
def _parenthesised(text: str) -> tuple[str, tuple[str, ...]]:
    """The text outside its outermost parentheses, and what each of them holds. Nesting
    counts: in "A is zero. (No: B is zero, A random (Gaussian).)" the correction is the
    whole outer group, not "Gaussian", and the claim does not keep the correction."""
    outside: list[str] = []
    groups: list[str] = []
    depth, start = 0, 0
    for k, ch in enumerate(text):
        if ch in "（(":
            if depth == 0:
                outside.append(text[start:k])
                start = k + 1
            depth += 1
        elif ch in ")）" and depth:
            depth -= 1
            if depth == 0:
                groups.append(text[start:k].strip())
                start = k + 1
    if depth:  # an unclosed parenthesis: keep the rest as said
        outside.append(text[start - 1 :])
    else:
        outside.append(text[start:])
    return "".join(outside).strip(), tuple(g for g in groups if g)


def _is_han(text: str) -> bool:
    return bool(HAN.search(text))


@cached_on_words
@cache
def _phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(t.casefold() for t in segmenter().cut(phrase))


@cached_on_words
@lru_cache(maxsize=16384)
def _folded_tokens(text: str) -> tuple[str, ...]:
    return tuple(t.casefold() for t in segmenter().cut(text))


def _phrase_hit(mc: Misconception, text: str) -> tuple[int, int, str] | None:
    """Token span of the first evidence phrase found in `text` (in order, small gaps
    allowed), and the phrase."""
    tokens = _folded_tokens(text)
    have = frozenset(tokens)
    for phrase in mc.evidence.terms():
        want = _phrase_tokens(phrase)
        if not want or not have.issuperset(want):
            continue  # (most phrases: a word of it is missing, no need to look for the order)
        span = _in_order(want, list(tokens), slack=2)
        if span is not None:
            return (*span, phrase)
    return None


def _in_order(want: tuple[str, ...], tokens: list[str], slack: int) -> tuple[int, int] | None:
    for start, tok in enumerate(tokens):
        if tok != want[0]:
            continue
        pos, gaps = start, 0
        ok = True
        for w in want[1:]:
            nxt = pos + 1
            while nxt < len(tokens) and tokens[nxt] != w and gaps <= slack:
                nxt += 1
                gaps += 1
            if nxt >= len(tokens) or tokens[nxt] != w:
                ok = False
                break
            pos = nxt
        if ok:
            return start, pos + 1
    return None


@cached_on_words
@lru_cache(maxsize=16384)
def _denies(text: str) -> bool:
    """Whether `text` is one sentence that denies something in one negation (a key point of
    several sentences with a "without" in one of them is not a denial)."""
    return negation_count(text) == 1 and sum(u.kind == "sentence" for u in split_units(text)) == 1


def _denied(text: str, hit: tuple[int, int, str] | None, claim: str) -> bool:
    """Whether `text` negates what the wrong claim asserts: an odd number of negations more
    or fewer than the claim; where one of the claim's phrases was found, than the phrase,
    counted near it ("adapters can't be merged" against the phrase "can be merged" of a
    claim that also says "adding no latency")."""
    if hit is not None:
        tokens = segmenter().cut(nfkc(text))
        start, end, phrase = hit
        window = " ".join(tokens[max(0, start - 4) : end])
        return negation_count(window) % 2 != negation_count(phrase) % 2
    return negation_count(text) % 2 != negation_count(claim) % 2


def _direction(text: str) -> int:
    """+1 if `text` only says something goes up, -1 if only down, 0 if neither or both."""
    lowered = nfkc(text).casefold()
    words = set(re.findall(r"[a-z]+", lowered))
    up = bool(words & DIRECTION_UP) or any(w in lowered for w in DIRECTION_UP if _is_han(w))
    down = bool(words & DIRECTION_DOWN) or any(w in lowered for w in DIRECTION_DOWN if _is_han(w))
    return int(up) - int(down)


def _opposite(text: str, claim: str) -> bool:
    """Whether `text` moves a quantity the opposite way to the wrong claim ("lower the
    learning rate" against "raise the learning rate"). Sentence embeddings put such
    opposites close together, so a match by similarity alone is checked this way; a match
    on the claim's own evidence phrase already has the claim's direction."""
    said, claimed = _direction(text), _direction(claim)
    return said != 0 and claimed != 0 and said != claimed


def _why(match: Match) -> str:
    return f"model {match.p:.2f}"


def _judged_text(units: Sequence[Unit]) -> str:
    """The answer as the verdict model reads it: its sentences (or, with none, its units)."""
    sentences = [u for u in units if u.kind == "sentence"] or units
    return " ".join(u.text for u in sentences)


def _states_verbatim(target: str, answer: PreparedAnswer) -> bool:
    """The answer contains the whole target, up to case, width, spaces and punctuation, as
    whole words ("O(n)" is in "It is O(n).", not in "constant")."""
    return bool(answer.find_terms([target]))


def _question_text(question: Question) -> str:
    zh, en = question.prompt.zh, question.prompt.en
    return zh if zh == en else f"{zh}\n{en}"


@cache
def _package_version() -> str:
    try:
        return importlib.metadata.version("interviewer")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def _blocked_reason(report: GuardReport) -> str:
    return "; ".join(report.notes) or "no part of the answer can earn credit"
