"""The target's side of the features is computed once per question, not once per answer:
the feature vectors must be exactly those computed afresh for each answer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.judge.embed import Encoder
from interviewer.judge.features import (
    TERM_CAP,
    AnswerSide,
    QuestionSide,
    _demote,
    _share,
    answer_side,
    bigrams,
    content_words,
    mostly_han,
    question_side,
    target_features,
    target_side,
)
from interviewer.judge.offline import OfflineJudge
from interviewer.judge.text import split_units

ANSWERS = [
    "LoRA 冻结原权重，只训练两个低秩矩阵 A 和 B。可训练参数从 d*k 变成 r*(d+k)，所以显存省。",
    "LoRA trains two small low-rank matrices; the frozen weight stays as it is. No extra latency.",
    "梯度检查点在前向时丢弃激活，反向时重算。显存降到 O(√n)，代价是多算一遍前向。",
    "随便写点什么。",
]


def fresh_features(
    answer: AnswerSide,
    target: str,
    terms: list[str],
    q: QuestionSide,
    encoder: Encoder,
    reference: bool,
) -> np.ndarray:
    """The features of one target as they were computed for every answer (the reference)."""
    t_vec = encoder.encode([target])
    unit_cos = (answer.units @ t_vec.T)[:, 0]
    best_unit = int(np.argmax(unit_cos))
    t_words = content_words(target)
    demoted_t = [w for w in t_words if w not in q.words] or list(t_words)
    demoted_a = [w for w in answer.words if w not in q.words]
    t_bigrams = bigrams(target)
    demoted_b = frozenset(b for b in t_bigrams if b not in q.bigrams) or t_bigrams
    soft_r = soft_p = 0.0
    if demoted_t and answer.word_list:
        sims = encoder.encode(demoted_t) @ answer.word_vectors.T
        exact = np.array([w in answer.words for w in demoted_t])
        soft_r = float(np.mean(np.where(exact, 1.0, sims.max(axis=1))))
        soft_p = float(np.mean(sims.max(axis=0)))
    found = len({t.casefold() for t in answer.prepared.find_terms(terms)}) if terms else 0
    vec = np.array(
        [
            float((answer.vector @ t_vec.T)[0, 0]),
            float(unit_cos[best_unit]),
            float((_demote(answer.vector, q.vector) @ _demote(t_vec, q.vector).T)[0, 0]),
            _share(demoted_t, answer.words),
            _share(demoted_a, frozenset(t_words)) if demoted_a else 0.0,
            _share(demoted_b, answer.bigrams) if demoted_b else 0.0,
            soft_r,
            soft_p,
            min(found, TERM_CAP, len(terms)) / min(TERM_CAP, len(terms)) if terms else 0.0,
            math.log((len(answer.text) + 5) / (len(target) + 5)),
            float((t_vec @ q.vector.T)[0, 0]),
            _share(t_words, q.words),
            math.log1p(len(t_words)),
            math.log1p(len(answer.words)),
            float((answer.vector @ q.vector.T)[0, 0]),
        ]
    )
    ref = float(reference)
    ref_han = ref * float(mostly_han(target))
    return np.concatenate([vec, [ref, ref_han], ref * vec])


@pytest.mark.parametrize(
    ("question_id", "reference"),
    [("lora-principle", False), ("activation-checkpointing", False), ("continuous-batching", True)],
)
def test_features_equal_the_per_answer_ones(
    judge: OfflineJudge, question_id: str, reference: bool
) -> None:
    bank = load_bank()  # the shipped bank
    question, rubric = bank.question(question_id), bank.rubric(question_id)
    q = question_side(question.prompt.zh, judge.encoder)
    for text in ANSWERS * 2:  # the second time round, every target side is kept
        side = answer_side(text, split_units(text), judge.encoder)
        for kp in rubric.key_points:
            terms = kp.evidence.terms()
            for target in (kp.text.zh, kp.text.en):
                x, _ = target_features(side, [target], terms, q, judge.encoder, reference)
                want = fresh_features(side, target, terms, q, judge.encoder, reference)
                assert np.array_equal(x, want)


def test_a_target_side_is_kept_while_its_embedding_is_the_same(
    bank: Bank, judge: OfflineJudge
) -> None:
    question = bank.question("lora-principle")
    target = bank.rubric("lora-principle").key_points[0].text.en
    q = question_side(question.prompt.zh, judge.encoder)
    first = target_side(target, q, judge.encoder)
    assert target_side(target, q, judge.encoder) is first
    # Another answer's question side: a new vector with the same values keeps it.
    assert (
        target_side(target, question_side(question.prompt.zh, judge.encoder), judge.encoder)
        is first
    )
    # Evicted and embedded again (in another batch its last bits may differ): made afresh.
    judge.encoder.forget([target])
    judge.encoder.encode([target, "something else to share the batch"])
    again = target_side(target, q, judge.encoder)
    assert again is not first
    (row,) = judge.encoder.rows([target])
    assert again.row is row
    assert np.array_equal(again.vector, judge.encoder.encode([target]))


def test_rows_are_the_cached_rows_encode_stacks() -> None:
    enc = Encoder(cache_size=3)
    from interviewer.judge.embed import encoder

    encoder().load()
    enc._model = encoder()._model
    rows = enc.rows(["alpha", "beta"])
    assert rows[0] is enc.rows(["alpha"])[0]
    assert np.array_equal(np.stack(rows), enc.encode(["alpha", "beta"]))
    assert enc.rows([]) == ()
    enc.encode(["gamma", "delta", "epsilon"])  # "alpha" is evicted
    assert enc.rows(["alpha"])[0] is not rows[0]


def test_one_target_against_two_questions(judge: OfflineJudge) -> None:
    bank = load_bank()
    target = bank.rubric("lora-principle").key_points[0].text.zh
    text = ANSWERS[0]
    side = answer_side(text, split_units(text), judge.encoder)
    for question_id in ("lora-principle", "activation-checkpointing", "lora-principle"):
        q = question_side(bank.question(question_id).prompt.zh, judge.encoder)
        x, _ = target_features(side, [target], [], q, judge.encoder)
        assert np.array_equal(x, fresh_features(side, target, [], q, judge.encoder, False))
