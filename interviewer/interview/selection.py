"""Which question comes next.

Rules, in order: only the chosen topics; never a question already asked; no question that
overlaps one already asked (see `overlap_graph`), unless nothing else is left; spread across
topics (the topic asked least so far first, weak topics favoured when `focus` is set);
the difficulty nearest the target, which rises after a strong answer and falls after a
weak one; and among equals a draw from a generator seeded by the interview's seed and the
question number, so the same seed gives the same interview.
"""

from __future__ import annotations

import random
import weakref
from collections import Counter, defaultdict
from itertools import combinations

from interviewer.bank.bank import Bank
from interviewer.bank.schema import Question, Rubric
from interviewer.bank.terms import normalise

STRONG_SCORE = 75.0
WEAK_SCORE = 40.0


def next_difficulty(current: int, score: float) -> int:
    if score >= STRONG_SCORE:
        return min(3, current + 1)
    if score < WEAK_SCORE:
        return max(1, current - 1)
    return current


# --- overlap ----------------------------------------------------------------------------

MIN_TERM_CHARS = 4  # "KV", "显存" and "loss" are too common to name a mechanism
MAX_TERM_RUBRICS = 8  # PagedAttention is in the key points of 8 rubrics
MIN_SHARED_TERMS = 2

Overlaps = dict[str, frozenset[str]]


def _specific_terms(rubric: Rubric) -> dict[str, set[str]]:
    """The rubric's key-point evidence terms of MIN_TERM_CHARS or more, normalised, per
    language (a term and its translation then count once)."""
    terms: dict[str, set[str]] = {"zh": set(), "en": set()}
    for kp in rubric.key_points:
        for lang, found in (("zh", kp.evidence.zh), ("en", kp.evidence.en)):
            terms[lang].update(n for n in map(normalise, found) if len(n) >= MIN_TERM_CHARS)
    return terms


def build_overlap_graph(bank: Bank) -> Overlaps:
    """For each question, the questions it overlaps: two questions overlap when either
    lists the other in `related`, or when their rubrics' key points share MIN_SHARED_TERMS
    or more evidence terms in one language that are specific: MIN_TERM_CHARS characters or
    more, and in the key points of at most MAX_TERM_RUBRICS rubrics (a mechanism's name,
    such as "copy-on-write" or 分页注意力, not a word every topic uses)."""
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)  # (lang, term) -> rubrics
    for qid, rubric in bank.rubrics.items():
        for lang, terms in _specific_terms(rubric).items():
            for t in terms:
                holders[(lang, t)].add(qid)
    shared: Counter[tuple[str, str, str]] = Counter()
    for (lang, _), qids in holders.items():
        if len(qids) <= MAX_TERM_RUBRICS:
            for a, b in combinations(sorted(qids), 2):
                shared[(a, b, lang)] += 1
    graph: dict[str, set[str]] = {qid: set() for qid in bank.questions}
    pairs = [(a, b) for (a, b, _), n in shared.items() if n >= MIN_SHARED_TERMS]
    pairs += [(q.id, r) for q in bank.questions.values() for r in q.related]
    for a, b in pairs:
        if a in graph and b in graph and a != b:
            graph[a].add(b)
            graph[b].add(a)
    return {qid: frozenset(near) for qid, near in graph.items()}


_GRAPHS: dict[int, tuple[weakref.ref[Bank], tuple[int, int], Overlaps]] = {}


def overlap_graph(bank: Bank) -> Overlaps:
    """`build_overlap_graph(bank)`, built once per loaded bank."""
    key, size = id(bank), (len(bank.questions), len(bank.rubrics))
    cached = _GRAPHS.get(key)
    if cached is not None and cached[0]() is bank and cached[1] == size:
        return cached[2]
    graph = build_overlap_graph(bank)
    _GRAPHS[key] = (weakref.ref(bank, lambda _: _GRAPHS.pop(key, None)), size, graph)
    return graph


def overlap_pairs(bank: Bank) -> list[tuple[str, str]]:
    """Every overlapping pair once, sorted."""
    graph = overlap_graph(bank)
    return sorted((a, b) for a, near in graph.items() for b in near if a < b)


# --- selection --------------------------------------------------------------------------


def candidates(bank: Bank, topics: list[str]) -> list[Question]:
    wanted = set(topics)
    return [q for q in bank.questions.values() if not wanted or q.topic in wanted]


def select_question(
    bank: Bank,
    *,
    topics: list[str],
    asked: list[str],
    asked_topics: list[str],
    target_difficulty: int,
    seed: int,
    focus: list[str] | None = None,
) -> Question | None:
    """The next question, or None when the pool is used up."""
    done = set(asked)
    pool = [q for q in candidates(bank, topics) if q.id not in done]
    if not pool:
        return None
    if asked:
        graph = overlap_graph(bank)
        near = set().union(*(graph.get(a, frozenset()) for a in asked))
        pool = [q for q in pool if q.id not in near] or pool  # all overlap: ask one anyway
    rng = random.Random(f"{seed}:{len(asked)}")
    counts = Counter(asked_topics)
    weak_rank = {t: i for i, t in enumerate(focus or [])}

    def key(q: Question) -> tuple[int, int, int, float]:
        return (
            counts[q.topic],  # spread: least-asked topic first
            weak_rank.get(q.topic, len(weak_rank)),  # then weak topics first, if focusing
            abs(q.difficulty - target_difficulty),  # then the nearest difficulty
            rng.random(),  # then chance, reproducibly
        )

    return min(pool, key=key)
