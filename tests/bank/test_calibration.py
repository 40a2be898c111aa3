"""Calibration answers are checked against the bank, each problem at the answer's line; a
question calibrated in two files names the first."""

from __future__ import annotations

from pathlib import Path

import pytest

from interviewer.bank.calibration import load_calibration
from interviewer.bank.errors import BankError
from interviewer.bank.loader import load_bank
from tests.bank.test_loader import edit, line_of


def problems(path: Path, root: Path) -> list[str]:
    with pytest.raises(BankError) as info:
        load_calibration(path, load_bank(root))
    return [str(p) for p in info.value.problems]


def test_a_folder_loads_every_yaml_file_in_it(small_bank: Path) -> None:
    (small_bank / "calibration" / "README.txt").write_text("not calibration\n", "utf-8")
    items = load_calibration(small_bank / "calibration", load_bank(small_bank))
    assert [item.question_id for item in items] == ["lora-principle"]
    assert [a.id for a in items[0].answers][:2] == [
        "lora-principle-strong",
        "lora-principle-partial",
    ]


def test_a_question_calibrated_in_two_files_names_the_first(small_bank: Path) -> None:
    folder = small_bank / "calibration"
    (folder / "zz-again.yaml").write_text((folder / "lora.yaml").read_text("utf-8"), "utf-8")
    assert problems(folder, small_bank) == [
        "calibration/zz-again.yaml:2: 'lora-principle' already has calibration answers "
        "in calibration/lora.yaml"
    ]


def test_calibration_for_a_question_the_bank_lacks(small_bank: Path) -> None:
    path = small_bank / "calibration" / "lora.yaml"
    edit(path, "- question_id: lora-principle", "- question_id: qlora-memory")
    assert problems(path, small_bank) == [
        "calibration/lora.yaml:2: calibration for 'qlora-memory', but the bank has no such question"
    ]


def test_answer_problems_are_at_the_answers_line(small_bank: Path) -> None:
    path = small_bank / "calibration" / "lora.yaml"
    edit(path, "    - id: lora-principle-partial", "    - id: lora-principle-strong")
    edit(path, "misconceptions: [compresses-model, adds-latency]", "misconceptions: [made-up]")
    lines = path.read_text("utf-8").splitlines()
    _, second = [n for n, s in enumerate(lines, 1) if s == "    - id: lora-principle-strong"]
    third = line_of(path, "id: lora-principle-misconception")
    assert problems(path, small_bank) == [
        f"calibration/lora.yaml:{second}: duplicate answer id 'lora-principle-strong'",
        f"calibration/lora.yaml:{third}: lora-principle-misconception: "
        "unknown misconception 'made-up'",
    ]


def test_a_broken_file_does_not_hide_the_next_ones(small_bank: Path) -> None:
    folder = small_bank / "calibration"
    (folder / "aa-broken.yaml").write_text("- question_id: [unclosed\n", "utf-8")
    edit(folder / "lora.yaml", "        target-modules: covered\n", "")
    found = problems(folder, small_bank)
    assert found[0].startswith("calibration/aa-broken.yaml:")
    assert "missing: ['target-modules']" in found[1]
    assert len(found) == 2
