"""Selection knows overlap: questions that teach the same mechanism are not asked in one
interview, unless nothing else is left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.interview.selection import (
    MAX_TERM_RUBRICS,
    build_overlap_graph,
    overlap_graph,
    overlap_pairs,
    select_question,
)
from tests.bank.fixture import key_point, rubric, write_bank


def points(prefix: str, zh: list[str], en: list[str]) -> list[dict[str, Any]]:
    return [
        key_point(f"{prefix}-a", zh, en),
        key_point(f"{prefix}-b", [f"{prefix}乙术语"], [f"{prefix} beta term"]),
        key_point(f"{prefix}-c", [f"{prefix}丙术语"], [f"{prefix} gamma term"]),
    ]


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    """paged and vllm share two mechanism names; rel is linked to paged by `related`;
    other is unrelated and in paged's topic, so topic spread alone would not pick it."""
    rubrics = [
        rubric(
            "paged", key_points=points("paged", ["分页注意力"], ["copy-on-write", "block table"])
        ),
        rubric("vllm", key_points=points("vllm", ["连续批处理"], ["block table", "copy-on-write"])),
        rubric("rel", key_points=points("rel", ["相关问题"], ["related question"])),
        rubric("other", key_points=points("other", ["无关问题"], ["unrelated matter"])),
    ]
    root = write_bank(
        tmp_path / "bank",
        rubrics,
        topics={"paged": "serving", "vllm": "engines", "rel": "memory", "other": "serving"},
        related={"rel": ["paged"]},
    )
    return load_bank(root)


def pick(bank: Bank, asked: list[str], seed: int, topics: list[str] | None = None) -> str:
    q = select_question(
        bank,
        topics=topics or [],
        asked=asked,
        asked_topics=[bank.question(a).topic for a in asked],
        target_difficulty=2,
        seed=seed,
    )
    assert q is not None
    return q.id


def test_overlap_graph_from_terms_and_related_links(bank: Bank) -> None:
    assert overlap_pairs(bank) == [("paged", "rel"), ("paged", "vllm")]
    assert overlap_graph(bank) is overlap_graph(bank), "built once per bank"


def test_an_overlapping_question_is_never_chosen_after_the_first(bank: Bank) -> None:
    # topic spread alone prefers vllm and rel (topics not asked yet) to other (serving again)
    for seed in range(40):
        assert pick(bank, ["paged"], seed) == "other"
        assert pick(bank, ["vllm"], seed) != "paged"
        assert pick(bank, ["rel"], seed) != "paged"


def test_falls_back_when_only_overlapping_questions_are_left(bank: Bank) -> None:
    assert pick(bank, ["paged", "other"], 0) in {"vllm", "rel"}
    assert pick(bank, ["paged"], 0, topics=["engines"]) == "vllm"
    assert (
        select_question(
            bank,
            topics=["engines"],
            asked=["paged", "vllm"],
            asked_topics=["serving", "engines"],
            target_difficulty=2,
            seed=0,
        )
        is None
    )


def test_translations_and_common_terms_do_not_make_an_overlap(tmp_path: Path) -> None:
    common = ["transformer block", "attention heads"]  # in more rubrics than the limit
    rubrics = [
        rubric(f"common{i}", key_points=points(f"common{i}", [f"术语{i}号"], common))
        for i in range(MAX_TERM_RUBRICS + 1)
    ]
    # one term in Chinese, its translation in English: one mechanism name, not two
    rubrics.append(rubric("one", key_points=points("one", ["写时复制"], ["copy-on-write"])))
    rubrics.append(rubric("two", key_points=points("two", ["写时复制"], ["copy-on-write"])))
    bank = load_bank(write_bank(tmp_path / "bank", rubrics))
    assert all(not near for near in build_overlap_graph(bank).values())
