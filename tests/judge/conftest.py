from __future__ import annotations

from pathlib import Path

import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.bank.schema import Question, Rubric
from interviewer.judge import offline_judge
from interviewer.judge.offline import OfflineJudge
from tests.conftest import DATA

STRONG = (
    "LoRA 假设微调时权重的更新量是低秩的，所以把 ΔW 拆成 B 乘 A。"
    "原来的权重 W0 冻结，只训练 A 和 B。"
    "可训练参数从 d*k 变成 r*(d+k)，优化器状态也少了很多，所以显存省。"
    "推理的时候可以把 BA merge 回 W0，没有额外延迟。"
)


@pytest.fixture(scope="session")
def bank() -> Bank:
    return load_bank(Path(DATA / "bank"))


@pytest.fixture(scope="session")
def lora(bank: Bank) -> tuple[Question, Rubric]:
    return bank.question("lora-principle"), bank.rubric("lora-principle")


@pytest.fixture(scope="session")
def judge(bank: Bank) -> OfflineJudge:
    j = offline_judge()
    j.learn_terms(list(bank.rubrics.values()))
    return j
