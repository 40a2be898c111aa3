"""The report's reference line under a missed key point quotes that key point's sentence."""

from __future__ import annotations

import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.interview.report import reference_excerpt, reference_excerpts
from tests.conftest import REPO


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(REPO)


def test_base_model_point_does_not_quote_the_data_sentence(bank: Bank) -> None:
    # Issue 14: under the base-model point the data-preparation sentence appeared too.
    rubric = bank.rubric("lora-project-usage")
    kps = {kp.id: kp for kp in rubric.key_points}
    data = reference_excerpt(rubric, kps["data-pipeline"], "zh")
    base = reference_excerpt(rubric, kps["base-and-config"], "zh")
    assert "历史工单" in data
    assert base != data
    assert "基座" in base


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_two_key_points_quote_the_same_reference_sentence(bank: Bank, lang: str) -> None:
    clashes = []
    for qid, rubric in bank.rubrics.items():
        quoted = reference_excerpts(rubric, lang)
        texts = {kp.id: kp.text.get(lang) for kp in rubric.key_points}
        sentences = [q for kp, q in quoted.items() if q != texts[kp]]
        if len(sentences) != len(set(sentences)):
            clashes.append(qid)
    assert clashes == []
