"""The rules that span files, each reported at the file and line it is about; a problem
between two files names both."""

from __future__ import annotations

from pathlib import Path

import pytest

from interviewer.bank.errors import BankError, Problem
from interviewer.bank.loader import load_bank, load_question_file, load_rubric_file
from interviewer.bank.rules import Parsed, QuestionLines, RubricData, assemble, check_rubric
from tests.bank.test_loader import edit, line_of, problems_of


def test_a_second_rubric_names_the_first(small_bank: Path) -> None:
    first = small_bank / "rubrics" / "lora-principle.yaml"
    (small_bank / "rubrics" / "zz-second.yaml").write_text(first.read_text("utf-8"), "utf-8")
    assert problems_of(small_bank) == [
        "rubrics/zz-second.yaml:2: second rubric for 'lora-principle' "
        "(also rubrics/lora-principle.yaml)"
    ]


def test_a_rubric_file_is_named_for_its_question(small_bank: Path) -> None:
    (small_bank / "rubrics" / "lora-principle.yaml").rename(small_bank / "rubrics" / "lora.yaml")
    assert problems_of(small_bank) == [
        "rubrics/lora.yaml:2: rubric file for 'lora-principle' should be named lora-principle.yaml"
    ]


def test_a_broken_question_file_does_not_orphan_its_rubric(small_bank: Path) -> None:
    edit(small_bank / "questions" / "lora.yaml", "  kind: concept\n", "")
    assert problems_of(small_bank) == ["questions/lora.yaml:2: [0].kind: required field is missing"]


def test_a_broken_rubric_does_not_leave_its_question_rubric_less(small_bank: Path) -> None:
    path = small_bank / "rubrics" / "lora-principle.yaml"
    edit(path, "question_id: lora-principle\n", "question_id: lora-principle\ncolour: red\n")
    assert problems_of(small_bank) == [
        "rubrics/lora-principle.yaml:3: colour: unknown field "
        "(check the spelling; see schemas/ for the fields)"
    ]


def test_a_misconception_cannot_reuse_a_key_point_id(small_bank: Path) -> None:
    path = small_bank / "rubrics" / "lora-principle.yaml"
    edit(path, "  - id: adds-latency\n", "  - id: frozen-base\n")
    line = [n for n, s in enumerate(path.read_text("utf-8").splitlines(), 1) if "frozen-base" in s]
    assert problems_of(small_bank) == [
        f"rubrics/lora-principle.yaml:{line[-1]}: duplicate id 'frozen-base' "
        "(key point and misconception ids share one namespace)"
    ]


def test_related_and_inventory_ids_must_exist(small_bank: Path) -> None:
    path = small_bank / "questions" / "lora.yaml"
    edit(path, "  related: []", "  related: [qlora-memory]")
    edit(path, "inventory_ids: [lora-principle]", "inventory_ids: [lora-principle, no-such]")
    assert problems_of(small_bank) == [
        "questions/lora.yaml:2: lora-principle: related question 'qlora-memory' does not exist",
        "questions/lora.yaml:2: lora-principle: unknown inventory id 'no-such'",
    ]


def test_content_rules_apply_only_when_strict(small_bank: Path) -> None:
    path = small_bank / "rubrics" / "lora-principle.yaml"
    text = path.read_text("utf-8")
    path.write_text(text[: text.index("sources:")], "utf-8")  # no sources
    assert list(load_bank(small_bank, strict_content=False).rubrics) == ["lora-principle"]
    assert problems_of(small_bank) == [
        f"rubrics/lora-principle.yaml:{line_of(path, 'question_id')}: no sources; "
        "name the paper or docs"
    ]


def test_references_are_checked_even_when_not_strict(small_bank: Path) -> None:
    edit(
        small_bank / "questions" / "lora.yaml", "- probes: init-scaling", "- probes: no-such-point"
    )
    with pytest.raises(BankError) as info:
        load_bank(small_bank, strict_content=False)
    [problem] = [str(p) for p in info.value.problems]
    assert problem.startswith(
        "questions/lora.yaml:2: lora-principle: follow-up probes 'no-such-point'"
    )


def test_a_rubric_with_too_few_key_points_is_reported_at_the_list(small_bank: Path) -> None:
    rubric, data = load_rubric_file(small_bank / "rubrics" / "lora-principle.yaml")
    short = rubric.model_copy(update={"key_points": rubric.key_points[:2]})
    assert [str(p) for p in check_rubric(short, data, "r.yaml", strict=True)] == [
        "r.yaml:4: 2 key points; a rubric has 3 to 7"
    ]
    assert list(check_rubric(short, data, "r.yaml", strict=False)) == []


def test_assemble_keeps_a_broken_files_problems_and_its_declared_ids(small_bank: Path) -> None:
    """Parsed files in, a Bank or every problem out: no file is read by the rules."""
    root = small_bank.resolve()
    qpath, rpath = root / "questions" / "lora.yaml", root / "rubrics" / "lora-principle.yaml"
    questions: list[Parsed[QuestionLines]] = [Parsed(qpath, load_question_file(qpath, root))]
    rubrics: list[Parsed[RubricData]] = [Parsed(rpath, load_rubric_file(rpath, root))]
    bank = assemble(root, questions, rubrics, strict=True)
    assert bank.where["lora-principle"].path == qpath and bank.where["lora-principle"].line == 2

    broken = Problem("questions/lora.yaml", 5, "something wrong")
    declared = Parsed[QuestionLines](qpath, None, [broken], frozenset({"lora-principle"}))
    with pytest.raises(BankError) as info:
        assemble(root, [declared], rubrics, strict=True)
    assert info.value.problems == [broken]  # the rubric is not called an orphan

    undeclared = Parsed[QuestionLines](qpath, None, [broken], frozenset())
    with pytest.raises(BankError) as info:
        assemble(root, [undeclared], rubrics, strict=True)
    assert [str(p) for p in info.value.problems] == [
        "questions/lora.yaml:5: something wrong",
        "rubrics/lora-principle.yaml:2: rubric for 'lora-principle', but no question has that id",
    ]
