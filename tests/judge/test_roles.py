from __future__ import annotations

from interviewer.judge.roles import bound_like_correction, pairs

CLAIM = "LoRA initialises A to zero and B randomly."
CORRECTION = "The LoRA paper sets B to zero and draws A at random, so BA is zero at the start."


def test_a_pair_is_two_words_of_one_clause() -> None:
    found = pairs("A is zero, B is random")
    assert frozenset(("A", "zero")) in found
    assert frozenset(("B", "random")) in found
    assert frozenset(("zero", "B")) not in found  # across the comma


def test_the_same_words_paired_the_other_way_are_the_correction() -> None:
    assert bound_like_correction("B starts at zero, and A is drawn at random.", CLAIM, CORRECTION)
    assert not bound_like_correction("A starts at zero, and B is random.", CLAIM, CORRECTION)


def test_one_shared_pair_is_not_enough() -> None:
    assert not bound_like_correction("B is zero.", CLAIM, CORRECTION)
