"""Contradictions of a reference, and which of several references grades an answer."""

from __future__ import annotations

import pytest

from interviewer.judge.contradiction import best_reference, contradicts, graded_by


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        # the reference's words with the negation turned round, either way
        ("The terminals are connected to each other.", "the terminals are not connected", True),
        ("Bulb A is not in a closed path.", "Bulb A is still in a closed path", True),
        ("Adam 不需要保存一阶矩和二阶矩。", "Adam 需要保存一阶矩和二阶矩", True),
        # a paraphrase, and the same negations
        ("The terminals aren't connected.", "the terminals are not connected", False),
        ("A still has a closed path to the battery.", "Bulb A is in a closed path", False),
        # a second negation that falls on a word the reference does not use
        (
            "The terminals are not connected, so there is no voltage.",
            "the terminals are not connected",
            False,
        ),
        # the negation falls on a word the reference does not use
        (
            "The pitch is higher, not lower.",
            "When the string was tighter, the pitch was higher.",
            False,
        ),
        # a contradiction in other words ("no gap" is "connected") is not seen: too few
        # shared words; only a negation turned round is
        ("There is no gap.", "the terminals are not connected", False),
    ],
)
def test_an_answer_that_says_the_reference_turned_round(
    answer: str, reference: str, expected: bool
) -> None:
    assert contradicts(answer, reference) is expected


def test_the_question_words_count_as_the_reference_s() -> None:
    """Words the answer takes from the question are not words beside the reference: the
    answer is read as the reference turned round only with the question's words known."""
    question = "What does a voltage reading of 1.5 tell you about the battery terminal?"
    answer = "The voltage reading says the terminals are connected."
    assert not contradicts(answer, "the terminals are not connected")
    assert contradicts(answer, "the terminals are not connected", question)


def test_the_best_reference_is_one_the_answer_does_not_contradict() -> None:
    assert best_reference([90.0, 40.0, 10.0], [True, False, False]) == 1
    assert best_reference([90.0, 40.0], [False, False]) == 0
    assert best_reference([40.0, 40.0], [False, False]) == 0  # the first on a tie
    assert best_reference([90.0, 40.0], [True, True]) == 0  # contradicts all: the best
    assert best_reference([None, 40.0, 70.0], [False, True, False]) == 2  # not graded
    with pytest.raises(ValueError, match="no reference"):
        best_reference([None], [False])
    # the one it does not contradict could not be graded: no grade, not the contradicted one's
    with pytest.raises(ValueError, match="no reference"):
        best_reference([85.0, None], [True, False])


def test_the_reference_an_answer_is_graded_by() -> None:
    answer = "The terminals are connected."
    refs = ["the terminals are not connected", "there is a gap between the terminals"]
    assert graded_by(answer, refs, [85.0, 30.0]) == 1
    assert graded_by("They are not connected.", refs, [85.0, 30.0]) == 0
    assert graded_by(answer, refs[:1], [85.0]) == 0  # one reference: graded by it
