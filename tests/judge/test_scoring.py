from __future__ import annotations

import pytest

from interviewer.bank.schema import Question, Rubric
from interviewer.judge.normalize import locate, overlap, verify
from interviewer.judge.schema import MisconceptionFound, Verdict
from interviewer.judge.scoring import score

Lora = tuple[Question, Rubric]


def verdicts(rubric: Rubric, label: str) -> list[Verdict]:
    return [Verdict(key_point=kp.id, verdict=label) for kp in rubric.key_points]  # type: ignore[arg-type]


def test_score_from_weights(lora: Lora) -> None:
    _, r = lora
    assert score(r, verdicts(r, "covered"), []) == 100
    assert score(r, verdicts(r, "partial"), []) == 50
    assert score(r, verdicts(r, "missed"), []) == 0
    one = [Verdict(key_point="low-rank-update", verdict="covered")]  # weight 3 of 12
    assert score(r, one, []) == 25


def test_a_finer_credit_replaces_the_verdicts_credit(lora: Lora) -> None:
    _, r = lora
    fine = [
        Verdict(key_point=kp.id, verdict="partial", credit=0.7)  # type: ignore[arg-type]
        for kp in r.key_points
    ]
    assert score(r, fine, []) == 70
    assert Verdict(key_point="x", verdict="missed", credit=0.2).earned == 0.2
    assert Verdict(key_point="x", verdict="partial").earned == 0.5
    with pytest.raises(ValueError):
        Verdict(key_point="x", verdict="covered", credit=1.5)


def test_penalties_floor_at_zero(lora: Lora) -> None:
    _, r = lora
    wrong = [MisconceptionFound(id="adds-latency", penalty=10)]
    assert score(r, verdicts(r, "covered"), wrong) == 90
    many = [MisconceptionFound(id=f"m{i}", penalty=40) for i in range(4)]
    assert score(r, verdicts(r, "partial"), many) == 0


@pytest.mark.parametrize(
    ("quote", "answer"),
    [
        ("W0 冻结，只训练 A 和 B", "原来的权重 W0 冻结， 只训练 A 和 B。"),
        ("ＬｏＲＡ 冻结", "LoRA冻结原始权重"),
        ("frozen;   only A", "The weights are Frozen. Only A and B train."),
    ],
)
def test_quotes_match_after_normalising(quote: str, answer: str) -> None:
    span = locate(quote, answer)
    assert span is not None
    assert verify(quote, answer, "covered") == ("covered", True)


def test_invented_quote_is_downgraded() -> None:
    answer = "LoRA 冻结原始权重，只训练 A 和 B 两个矩阵。"
    assert verify("B 初始化为零", answer, "covered") == ("missed", False)
    near = "LoRA 冻结原始权重，只训练 A 和 B 两个小矩阵"
    assert overlap(near, answer) >= 0.6
    assert verify(near, answer, "covered") == ("partial", False)
    assert verify("", answer, "missed") == ("missed", True)
