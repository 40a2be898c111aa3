"""What the offline judge's verdict model sees: features of an answer against one target.

A target is something the answer should state: a key point of a bank rubric (in Chinese
and English), or a sentence group of an ad-hoc rubric's reference answer. The same
features serve both, so one fitted model grades both paths:

- meaning: the cosine of the whole answer and of its best unit with the target (USE
  multilingual), and the cosine after removing the question's own direction from both
  ("question demoting": restating the question earns nothing);
- words: how many of the target's content words (stemmed English words, jieba words for
  Chinese), not already in the question, the answer contains (recall), how many of the
  answer's content words are in the target (precision), the same recall on Chinese
  character bigrams, and a soft recall where each target word is matched to its nearest
  answer word by embedding (so "expand" can stand for "grow");
- evidence terms: how many of the target's evidence terms are found, up to three (curated
  in the bank, drawn from the target's own words for an ad-hoc rubric);
- shape: answer and target length, and how much of the target the question already gives.

Everything about the target is computed once and cached; everything about the answer is
computed once per answer (`AnswerSide`), however many targets it is compared with.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import snowballstemmer

from interviewer.judge.embed import Encoder, Matrix
from interviewer.judge.normalize import nfkc
from interviewer.judge.prepared import PreparedAnswer
from interviewer.judge.text import (
    FUNCTION_EN,
    HAN,
    Unit,
    cached_on_words,
    is_function_word,
    mostly_han,
    on_new_terms,
    segmenter,
)

BASE_NAMES: tuple[str, ...] = (
    "cos_whole",
    "cos_unit",
    "cos_demoted",
    "recall",
    "precision",
    "bigram_recall",
    "soft_recall",
    "soft_precision",
    "terms",
    "log_len_ratio",
    "target_question_cos",
    "target_in_question",
    "log_target_words",
    "log_answer_words",
    "answer_question_cos",
)
# The kind of target: a reference answer (ad-hoc rubric) or a curated key point (bank).
# Students copy or paraphrase a short reference; a curated key point is a long statement
# with evidence terms chosen for it. Each base feature is also given times `reference`, so
# the one linear model holds a model per kind that shares what the two have in common.
# (A third block for Chinese references, times `reference_x_han`, fitted LE better and
# Chinese STS-B, which it never saw, far worse: it learnt LE, not Chinese.)
NAMES: tuple[str, ...] = (
    *BASE_NAMES,
    "reference",
    "reference_x_han",
    *(f"reference_x_{n}" for n in BASE_NAMES),
)
TERM_CAP = 3  # evidence terms found, counted up to this (aliases of one point repeat)
MAX_SOFT_WORDS = 40  # answer words embedded for the soft recall (the rest count exactly)

_EN_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_LATIN = re.compile(r"[A-Za-z0-9]+")
_STEMMER = snowballstemmer.stemmer("english")


_STEM_LOCK = threading.Lock()  # a snowball stemmer keeps its state on the object


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    with _STEM_LOCK:
        return str(_STEMMER.stemWord(word))


@cached_on_words
@lru_cache(maxsize=16384)
def content_words(text: str) -> tuple[str, ...]:
    """Content words in order, each once: stemmed English words and jieba words with a
    Chinese character, without function words."""
    t = nfkc(text).casefold()
    out = [stem(w) for w in _EN_WORD.findall(t) if w not in FUNCTION_EN]
    for w in segmenter().cut(_LATIN.sub(" ", t)):
        if HAN.search(w) and not is_function_word(w):
            out.append(w)
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=16384)
def bigrams(text: str) -> frozenset[str]:
    han = "".join(HAN.findall(text))
    return frozenset(han[i : i + 2] for i in range(len(han) - 1))


def _share(wanted: Sequence[str] | frozenset[str], have: frozenset[str] | set[str]) -> float:
    return sum(1 for w in wanted if w in have) / len(wanted) if wanted else 0.0


def _demote(v: Matrix, q: Matrix) -> Matrix:
    """`v` with its component along the question removed, normalised again."""
    w = v - (v @ q.T) * q
    return w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-9)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class QuestionSide:
    text: str
    words: frozenset[str]
    bigrams: frozenset[str]
    vector: Matrix  # (1, 512)


@dataclass(frozen=True)
class AnswerSide:
    """An answer as the features read it: computed once, compared with every target."""

    prepared: PreparedAnswer
    unit_texts: tuple[str, ...]
    words: frozenset[str]
    bigrams: frozenset[str]
    vector: Matrix  # the whole answer, (1, 512)
    units: Matrix  # one row per unit
    word_list: tuple[str, ...]  # content words embedded for the soft recall
    word_vectors: Matrix

    @property
    def text(self) -> str:
        return self.prepared.text


def question_side(question: str, encoder: Encoder) -> QuestionSide:
    return QuestionSide(
        question, frozenset(content_words(question)), bigrams(question), encoder.encode([question])
    )


def soft_words(answer: str) -> tuple[str, ...]:
    """The answer's content words that are embedded for the soft recall (longest first)."""
    return tuple(sorted(content_words(answer), key=len, reverse=True)[:MAX_SOFT_WORDS])


def answer_side(
    answer: str | PreparedAnswer, units: Sequence[Unit], encoder: Encoder
) -> AnswerSide:
    """Embed the answer's units and content words in one encoder call. The whole answer's
    vector is the normalised mean of its sentences' (embedding a long answer again as one
    text would cost as much as all its sentences, for about the same vector).
    `answer` is the text the verdict model reads (for the offline judge, the sentences the
    guards left), `units` the parts of it that may be quoted."""
    prepared = PreparedAnswer.of(answer)
    text = prepared.text
    unit_texts = tuple(dict.fromkeys(u.text for u in units)) or (text,)
    sentences = [u.text for u in units if u.kind == "sentence"] or [text]
    words = prepared.words
    soft = soft_words(text)
    vectors = encoder.encode([*unit_texts, *soft])
    n = len(unit_texts)
    whole = encoder.encode(sentences).mean(axis=0, keepdims=True)
    whole = whole / max(float(np.linalg.norm(whole)), 1e-9)
    return AnswerSide(
        prepared=prepared,
        unit_texts=unit_texts,
        words=frozenset(words),
        bigrams=bigrams(text),
        vector=whole.astype(np.float32),
        units=vectors[:n],
        word_list=soft,
        word_vectors=vectors[n:],
    )


@dataclass(frozen=True)
class TargetSide:
    """What the features read of one target against one question: the same for every
    answer, so computed once (`target_side`), not once per answer."""

    text: str
    row: Matrix  # the encoder's cached row of `text`: the values below were computed from it
    question_vector: Matrix  # and from this question vector
    vector: Matrix  # (1, 512)
    words: tuple[str, ...]
    demoted_words: tuple[str, ...]  # not in the question (all of them, if all are)
    bigrams: frozenset[str]
    demoted_bigrams: frozenset[str]
    demoted_vector: Matrix  # `vector` without the question's direction
    question_cos: float
    in_question: float
    han: float


@dataclass(frozen=True)
class AnswerAgainst:
    """What the features read of an answer against the question, the same for every target."""

    demoted_words: tuple[str, ...]  # the answer's content words not in the question
    demoted_vector: Matrix
    question_cos: float


def answer_against(answer: AnswerSide, q: QuestionSide) -> AnswerAgainst:
    return AnswerAgainst(
        tuple(w for w in answer.words if w not in q.words),
        _demote(answer.vector, q.vector),
        float((answer.vector @ q.vector.T)[0, 0]),
    )


_TARGETS: dict[tuple[str, str], TargetSide] = {}
_TARGETS_MAX = 8192


def target_side(target: str, q: QuestionSide, encoder: Encoder) -> TargetSide:
    """The target's side of the features, kept while the encoder holds the same embedding of
    the target and the question's vector is the same (the encoder is called here as the
    features always called it, so that its cache keeps and evicts the same texts)."""
    (row,) = encoder.rows([target])
    key = (target, q.text)
    side = _TARGETS.get(key)
    if side is not None and side.row is row and np.array_equal(side.question_vector, q.vector):
        return side
    t_vec = np.stack([row])  # as `encoder.encode([target])` gives it
    t_words = content_words(target)
    t_bigrams = bigrams(target)
    side = TargetSide(
        text=target,
        row=row,
        question_vector=q.vector,
        vector=t_vec,
        words=t_words,
        demoted_words=tuple(w for w in t_words if w not in q.words) or t_words,
        bigrams=t_bigrams,
        demoted_bigrams=frozenset(b for b in t_bigrams if b not in q.bigrams) or t_bigrams,
        demoted_vector=_demote(t_vec, q.vector),
        question_cos=float((t_vec @ q.vector.T)[0, 0]),
        in_question=_share(t_words, q.words),
        han=float(mostly_han(target)),
    )
    if len(_TARGETS) >= _TARGETS_MAX:
        _TARGETS.clear()
    _TARGETS[key] = side
    return side


on_new_terms(_TARGETS.clear)  # a target's words depend on the terms the segmenter knows


def target_features(
    answer: AnswerSide,
    targets: Sequence[str],
    terms: Sequence[str],
    question: QuestionSide,
    encoder: Encoder,
    reference: bool = False,
    against: AnswerAgainst | None = None,
) -> tuple[np.ndarray, int]:
    """The feature vector of `answer` against the best of `targets` (the same statement in
    several languages or wordings), and the index of the answer's unit closest to it.
    `reference`: the targets are (parts of) a reference answer, not curated key points.
    `against`: `answer_against(answer, question)`, when the caller has it already."""
    against = against or answer_against(answer, question)
    found = len({t.casefold() for t in answer.prepared.find_terms(terms)}) if terms else 0
    best: tuple[float, np.ndarray, int] | None = None
    for target in targets:
        side = target_side(target, question, encoder)
        vec, unit = _features_one(answer, side, terms, found, against, encoder, reference)
        rank = preference(vec)
        if best is None or rank > best[0]:
            best = (rank, vec, unit)
    assert best is not None, "a target needs at least one text"
    return best[1], best[2]


def preference(x: np.ndarray) -> float:
    """Which of several targets an answer is measured against: the one it is closest to by
    its best unit's meaning, its word recall and its bigram recall."""
    return float(x[1] + x[3] + x[5])


def _features_one(
    answer: AnswerSide,
    t: TargetSide,
    terms: Sequence[str],
    found: int,
    against: AnswerAgainst,
    encoder: Encoder,
    reference: bool,
) -> tuple[np.ndarray, int]:
    t_vec = t.vector
    unit_cos = (answer.units @ t_vec.T)[:, 0]
    best_unit = int(np.argmax(unit_cos))
    t_words, demoted_t = t.words, list(t.demoted_words)
    demoted_a = against.demoted_words
    demoted_b = t.demoted_bigrams
    soft_r = soft_p = 0.0
    if demoted_t and answer.word_list:
        sims = encoder.encode(demoted_t) @ answer.word_vectors.T  # target words × answer words
        exact = np.array([w in answer.words for w in demoted_t])
        soft_r = float(np.where(exact, 1.0, sims.max(axis=1)).mean())
        soft_p = float(sims.max(axis=0).mean())
    n_answer = len(answer.words)
    vec = np.array(
        [
            float((answer.vector @ t_vec.T)[0, 0]),
            float(unit_cos[best_unit]),
            float((against.demoted_vector @ t.demoted_vector.T)[0, 0]),
            _share(demoted_t, answer.words),
            _share(demoted_a, frozenset(t_words)) if demoted_a else 0.0,
            _share(demoted_b, answer.bigrams) if demoted_b else 0.0,
            soft_r,
            soft_p,
            min(found, TERM_CAP, len(terms)) / min(TERM_CAP, len(terms)) if terms else 0.0,
            math.log((len(answer.text) + 5) / (len(t.text) + 5)),
            t.question_cos,
            t.in_question,
            math.log1p(len(t_words)),
            math.log1p(n_answer),
            against.question_cos,
        ],
        dtype=np.float64,
    )
    ref = float(reference)
    ref_han = ref * t.han
    vec = np.concatenate([vec, [ref, ref_han], ref * vec])
    return vec, best_unit
