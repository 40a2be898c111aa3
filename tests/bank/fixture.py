"""Small banks written from Python for the bank's content checks (lint, overlap)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def key_point(
    kp_id: str,
    zh: list[str],
    en: list[str],
    *,
    weight: float = 1,
    role: str = "asked",
    text: str = "一个要点。 A key point.",
    title: bool = True,
    partial_if: bool = True,
) -> dict[str, Any]:
    zh_text, en_text = text.split(" ", 1)
    point: dict[str, Any] = {
        "id": kp_id,
        "weight": weight,
        "role": role,
        "text": {"zh": zh_text, "en": en_text},
        "evidence": {"zh": zh, "en": en},
    }
    if title:
        point["title"] = {"zh": "标题", "en": "A title"}
    if partial_if:
        point["partial_if"] = {"zh": "说出一半", "en": "Says half of it"}
    return point


def misconception(mc_id: str, zh: list[str], en: list[str]) -> dict[str, Any]:
    return {
        "id": mc_id,
        "penalty": 5,
        "text": {"zh": "一个错误说法。", "en": "A wrong claim."},
        "evidence": {"zh": zh, "en": en},
    }


def rubric(
    qid: str,
    *,
    reference_zh: str = "参考答案。",
    reference_en: str = "A reference answer.",
    key_points: list[dict[str, Any]] | None = None,
    misconceptions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    points = key_points or [
        key_point(f"{qid}-a", [f"{qid}甲术语"], [f"{qid} alpha term"]),
        key_point(f"{qid}-b", [f"{qid}乙术语"], [f"{qid} beta term"]),
        key_point(f"{qid}-c", [f"{qid}丙术语"], [f"{qid} gamma term"]),
    ]
    return {
        "question_id": qid,
        "version": 1,
        "key_points": points,
        "misconceptions": misconceptions or [],
        "reference_answer": {"zh": reference_zh, "en": reference_en},
        "sources": ["A paper, 2024"],
    }


def question(
    qid: str, probes: list[str], *, topic: str = "topic", related: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": qid,
        "topic": topic,
        "difficulty": 2,
        "kind": "concept",
        "prompt": {"zh": f"问题 {qid}？", "en": f"Question {qid}?"},
        "follow_ups": [
            {"probes": probes[0], "zh": "追问一？", "en": "Follow-up one?"},
            {"probes": probes[1], "zh": "追问二？", "en": "Follow-up two?"},
        ],
        "related": related or [],
    }


def write_bank(
    root: Path,
    rubrics: list[dict[str, Any]],
    *,
    topics: dict[str, str] | None = None,
    related: dict[str, list[str]] | None = None,
) -> Path:
    """A bank at `root`: one question per rubric, all in questions/bank.yaml."""
    yaml = YAML()
    yaml.default_flow_style = False
    (root / "questions").mkdir(parents=True)
    (root / "rubrics").mkdir()
    questions = [
        question(
            r["question_id"],
            [kp["id"] for kp in r["key_points"]],
            topic=(topics or {}).get(r["question_id"], "topic"),
            related=(related or {}).get(r["question_id"]),
        )
        for r in rubrics
    ]
    with (root / "questions" / "bank.yaml").open("w", encoding="utf-8") as f:
        yaml.dump(questions, f)
    for r in rubrics:
        with (root / "rubrics" / f"{r['question_id']}.yaml").open("w", encoding="utf-8") as f:
            yaml.dump(r, f)
    return root
