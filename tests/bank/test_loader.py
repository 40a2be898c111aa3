from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from interviewer.bank.calibration import load_calibration
from interviewer.bank.errors import BankError
from interviewer.bank.loader import load_bank
from tests.conftest import REPO


def problems_of(root: Path) -> list[str]:
    with pytest.raises(BankError) as info:
        load_bank(root)
    return [str(p) for p in info.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_shipped_bank_is_valid() -> None:
    bank = load_bank(REPO)
    assert bank.questions, "the shipped bank has no questions"
    assert set(bank.rubrics) == set(bank.questions)
    load_calibration(REPO / "calibration", bank)


def test_small_bank_loads_with_locations(small_bank: Path) -> None:
    bank = load_bank(small_bank)
    assert list(bank.questions) == ["lora-principle"]
    assert bank.where["lora-principle"].line == 2
    assert bank.rubric("lora-principle").total_weight == 12


def test_malformed_yaml_names_file_and_line(small_bank: Path) -> None:
    path = small_bank / "rubrics" / "lora-principle.yaml"
    edit(path, "  - id: frozen-base\n", "  - id: frozen-base\n  bad: [unclosed\n")
    bad_line = line_of(path, "bad: [unclosed")
    [problem] = problems_of(small_bank)
    match = re.match(r"rubrics/lora-principle\.yaml:(\d+): malformed YAML", problem)
    assert match, problem
    assert abs(int(match.group(1)) - bad_line) <= 1


def test_missing_field_names_the_item_line(small_bank: Path) -> None:
    path = small_bank / "questions" / "lora.yaml"
    edit(path, "  kind: concept\n", "")
    problems = problems_of(small_bank)
    assert problems == ["questions/lora.yaml:2: [0].kind: required field is missing"]


def test_mistyped_field_names_its_line(small_bank: Path) -> None:
    path = small_bank / "rubrics" / "lora-principle.yaml"
    edit(path, "    weight: 2\n", "    weight: heavy\n")
    [problem] = problems_of(small_bank)
    expected = line_of(path, "weight: heavy")
    assert problem.startswith(f"rubrics/lora-principle.yaml:{expected}: key_points[2].weight:")


def test_negative_weight_is_rejected(small_bank: Path) -> None:
    path = small_bank / "rubrics" / "lora-principle.yaml"
    edit(path, "    weight: 1\n", "    weight: -1\n")
    [problem] = problems_of(small_bank)
    assert f":{line_of(path, 'weight: -1')}: " in problem
    assert "greater than 0" in problem


def test_missing_language_is_rejected(small_bank: Path) -> None:
    path = small_bank / "questions" / "lora.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"\n    en: How does LoRA[^\n]*", "", text, count=1), encoding="utf-8")
    [problem] = problems_of(small_bank)
    assert problem == "questions/lora.yaml:6: [0].prompt.en: required field is missing"


def test_duplicate_question_ids_across_files(small_bank: Path) -> None:
    src = small_bank / "questions" / "lora.yaml"
    (small_bank / "questions" / "zz-copy.yaml").write_text(src.read_text("utf-8"), "utf-8")
    [problem] = problems_of(small_bank)
    assert problem.startswith("questions/zz-copy.yaml:2: duplicate question id 'lora-principle'")
    assert "first at questions/lora.yaml:2" in problem


def test_rubric_without_question(small_bank: Path) -> None:
    src = small_bank / "rubrics" / "lora-principle.yaml"
    orphan = small_bank / "rubrics" / "orphan.yaml"
    orphan.write_text(
        src.read_text("utf-8").replace("question_id: lora-principle", "question_id: orphan"),
        "utf-8",
    )
    [problem] = problems_of(small_bank)
    assert problem == "rubrics/orphan.yaml:2: rubric for 'orphan', but no question has that id"


def test_question_without_rubric(small_bank: Path) -> None:
    (small_bank / "rubrics" / "lora-principle.yaml").unlink()
    [problem] = problems_of(small_bank)
    assert problem.startswith("questions/lora.yaml:2: question 'lora-principle' has no rubric")


def test_follow_up_pointing_at_no_key_point(small_bank: Path) -> None:
    edit(small_bank / "questions" / "lora.yaml", "probes: init-scaling", "probes: no-such-point")
    [problem] = problems_of(small_bank)
    assert problem.startswith(
        "questions/lora.yaml:2: lora-principle: follow-up probes 'no-such-point'"
    )


def test_duplicate_key_point_ids(small_bank: Path) -> None:
    path = small_bank / "rubrics" / "lora-principle.yaml"
    edit(path, "  - id: target-modules", "  - id: frozen-base")
    [problem] = problems_of(small_bank)
    lines = [
        n
        for n, text in enumerate(path.read_text("utf-8").splitlines(), 1)
        if "id: frozen-base" in text
    ]
    assert (
        problem == f"rubrics/lora-principle.yaml:{lines[1]}: duplicate key point id 'frozen-base'"
    )


def test_not_utf8_names_file_and_line(small_bank: Path) -> None:
    path = small_bank / "questions" / "lora.yaml"
    raw = path.read_text("utf-8").encode("gbk", errors="replace")
    path.write_bytes(raw)
    problems = problems_of(small_bank)
    assert any(
        re.match(r"questions/lora\.yaml:\d+: the file is not UTF-8 .*save it as UTF-8", p)
        for p in problems
    ), problems


def test_unknown_field_is_reported(small_bank: Path) -> None:
    path = small_bank / "questions" / "lora.yaml"
    edit(path, "  kind: concept\n", "  kind: concept\n  dificulty: 3\n")
    [problem] = problems_of(small_bank)
    line = line_of(path, "dificulty")
    assert problem.startswith(f"questions/lora.yaml:{line}: [0].dificulty: unknown field")


def test_every_problem_is_reported_at_once(small_bank: Path) -> None:
    edit(small_bank / "questions" / "lora.yaml", "probes: init-scaling", "probes: nope")
    (small_bank / "questions" / "broken.yaml").write_text("- id: [unclosed\n", "utf-8")
    problems = problems_of(small_bank)
    assert len(problems) == 2
    assert problems[0].startswith("questions/broken.yaml:")
    assert "probes 'nope'" in problems[1]


def test_calibration_verdicts_must_name_every_key_point(small_bank: Path) -> None:
    path = small_bank / "calibration" / "lora.yaml"
    edit(path, "        target-modules: covered\n", "")
    bank = load_bank(small_bank)
    with pytest.raises(BankError) as info:
        load_calibration(path, bank)
    [problem] = [str(p) for p in info.value.problems]
    assert "missing: ['target-modules']" in problem
    assert problem.startswith("calibration/lora.yaml:")


# --- arbitrary YAML never escapes as anything but BankError ---------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=20,
)


def _dump(doc: object) -> str:
    from io import StringIO

    out = StringIO()
    YAML(typ="safe", pure=True).dump(doc, out)
    return out.getvalue()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question_doc=documents, rubric_doc=documents)
def test_arbitrary_yaml_raises_only_bank_error(
    small_bank: Path, question_doc: object, rubric_doc: object
) -> None:
    (small_bank / "questions" / "fuzz.yaml").write_text(_dump(question_doc), "utf-8")
    (small_bank / "rubrics" / "fuzz.yaml").write_text(_dump(rubric_doc), "utf-8")
    try:
        load_bank(small_bank)
    except BankError as exc:
        assert exc.problems
        assert all(p.line >= 0 and p.message for p in exc.problems)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200))
def test_arbitrary_text_raises_only_bank_error(small_bank: Path, text: str) -> None:
    (small_bank / "questions" / "fuzz.yaml").write_text(text, "utf-8")
    try:
        load_bank(small_bank)
    except BankError as exc:
        assert exc.problems
