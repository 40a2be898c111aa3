"""YAML read with its lines kept: a location in the data maps to the line it is written on,
and a pydantic error is reported at the line of the value it is about."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from interviewer.bank.errors import BankError
from interviewer.bank.yamlmap import item_lines, line_of, read_yaml, validate, yaml_files

RUBRIC = """\
# a comment first, so that lines are not indexes
question_id: q
key_points:
  - id: a
    weight: 1
  - id: b
    text:
      zh: 文本
    weight: 2
inline: [{id: c}, {id: d}]
"""


def read(tmp_path: Path, text: str, name: str = "doc.yaml") -> Any:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return read_yaml(path, name)


def test_line_of_follows_keys_and_items(tmp_path: Path) -> None:
    data = read(tmp_path, RUBRIC)
    assert line_of(data, ["question_id"]) == 2
    assert line_of(data, ["key_points"]) == 3
    assert line_of(data, ["key_points", 0]) == 4
    assert line_of(data, ["key_points", 1]) == 6
    assert line_of(data, ["key_points", 1, "text", "zh"]) == 8
    assert line_of(data, ["key_points", 1, "weight"]) == 9
    assert line_of(data, ["inline", 1, "id"]) == 10


def test_line_of_stops_at_the_deepest_node_the_file_has(tmp_path: Path) -> None:
    data = read(tmp_path, RUBRIC)
    assert line_of(data, ["key_points", 1, "title"]) == 6  # a missing field: its item's line
    assert line_of(data, ["key_points", 5, "id"]) == 3  # no sixth item: the list's line
    assert line_of(data, ["key_points", 0, "weight", "deeper"]) == 5  # past a scalar
    assert line_of(data, ["no_such_key"]) == 2  # the map's own first line
    assert line_of(None, ["anything"]) == 1  # an empty file


def test_item_lines_are_where_each_top_level_item_starts(tmp_path: Path) -> None:
    data = read(tmp_path, "# header\n- id: a\n  x: 1\n\n- id: b\n- id: c\n")
    assert list(item_lines(data)) == [2, 5, 6]
    not_a_list = read(tmp_path, "id: a\n", "map.yaml")
    assert list(islice(item_lines(not_a_list), 3)) == [1, 1, 1]


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    weight: int


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: str
    key_points: list[Point]


def test_validate_puts_each_pydantic_error_at_its_line(tmp_path: Path) -> None:
    text = "question_id: q\nkey_points:\n  - id: a\n    weight: heavy\n  - id: b\n    colour: 3\n"
    data = read(tmp_path, text)
    with pytest.raises(BankError) as info:
        validate(Doc, data, "rubrics/q.yaml")
    assert [str(p) for p in info.value.problems] == [
        "rubrics/q.yaml:4: key_points[0].weight: Input should be a valid integer, "
        "unable to parse string as an integer",
        "rubrics/q.yaml:5: key_points[1].weight: required field is missing",
        "rubrics/q.yaml:6: key_points[1].colour: unknown field "
        "(check the spelling; see schemas/ for the fields)",
    ]


def test_validate_returns_the_model_when_the_data_fits(tmp_path: Path) -> None:
    data = read(tmp_path, "question_id: q\nkey_points:\n  - id: a\n    weight: 2\n")
    assert validate(Doc, data, "q.yaml") == Doc(
        question_id="q", key_points=[Point(id="a", weight=2)]
    )


def test_a_byte_order_mark_is_dropped_and_lines_stay(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffquestion_id: q\nkey_points: []\n".encode())
    data = read_yaml(path, "bom.yaml")
    assert list(data) == ["question_id", "key_points"]
    assert line_of(data, ["key_points"]) == 2


def test_a_missing_file_is_a_problem_at_line_0(tmp_path: Path) -> None:
    with pytest.raises(BankError) as info:
        read_yaml(tmp_path / "gone.yaml", "rubrics/gone.yaml")
    [problem] = info.value.problems
    assert str(problem) == "rubrics/gone.yaml:0: cannot read the file: No such file or directory"


def test_an_empty_file_reads_as_none(tmp_path: Path) -> None:
    assert read(tmp_path, "") is None


def test_yaml_files_are_the_yaml_files_of_the_folder_in_order(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yaml", "notes.txt", "c.yaml.bak"):
        (tmp_path / name).write_text("x: 1\n", "utf-8")
    (tmp_path / "d.yaml").mkdir()  # a folder, not a file
    assert [p.name for p in yaml_files(tmp_path)] == ["a.yaml", "b.yml"]
    assert yaml_files(tmp_path / "missing") == []
