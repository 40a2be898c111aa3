"""Load and validate the bank: every problem at once, each as `path:line: message`.

The data flow: the bank's files (`root/questions/*.yaml`, `root/rubrics/*.yaml`) are read
with their lines kept (`yamlmap`), each validated against the schema on its own, then put
together by the cross-file rules (`rules`) into a `Bank`, which is kept in the cache
(`cache`) for the next start. Problems are `errors.Problem`s raised together in one
`errors.BankError`. Calibration answers are loaded against a bank by `calibration`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from interviewer.bank import cache
from interviewer.bank.bank import Bank
from interviewer.bank.errors import BankError, Problem, display_path
from interviewer.bank.rules import Parsed, QuestionLines, RubricData, assemble
from interviewer.bank.schema import QuestionFile, Rubric
from interviewer.bank.yamlmap import item_lines, read_yaml, validate, yaml_files

T = TypeVar("T")


def default_bank_dir() -> Path:
    """The built-in bank: packaged beside the code in a wheel, or the repository's own."""
    env = os.environ.get("INTERVIEWER_BANK_DIR")
    if env:
        return Path(env)
    packaged = Path(__file__).resolve().parent.parent / "_bank"
    if (packaged / "questions").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


def load_bank(root: Path | None = None, *, strict_content: bool = True) -> Bank:
    """Load `root/questions/*.yaml` and `root/rubrics/*.yaml`, check every cross-reference.

    Raises BankError listing every problem found (not just the first). A bank that loaded
    cleanly is kept, as JSON, in the cache directory, keyed by the name, size and time of
    every file it was read from and of this loader's own code: parsing 100+ files with line
    numbers takes seconds, and the interview should start at once.
    """
    root = (root or default_bank_dir()).resolve()
    key = cache.fingerprint(root, strict_content)
    bank = cache.read(key)
    if bank is None:
        bank = _load_bank(root, strict_content)
        cache.write(key, bank)
    return bank


def _load_bank(root: Path, strict_content: bool) -> Bank:
    qdir, rdir = root / "questions", root / "rubrics"
    if not qdir.is_dir():
        raise BankError([Problem(str(qdir), 0, "no questions/ folder here; is this a bank?")])
    questions = [_parse(load_question_file, path, root, "id") for path in yaml_files(qdir)]
    rubrics = [_parse(load_rubric_file, path, root, "question_id") for path in yaml_files(rdir)]
    return assemble(root, questions, rubrics, strict_content)


def load_question_file(path: Path, root: Path | None = None) -> QuestionLines:
    """The questions of one file, each with the line it starts at; BankError if invalid."""
    display = display_path(path, root or path.parent)
    data = read_yaml(path, display)
    if data is None:
        return []
    parsed = validate(QuestionFile, data, display)
    return list(zip(parsed.root, item_lines(data), strict=False))


def load_rubric_file(path: Path, root: Path | None = None) -> RubricData:
    """The rubric of one file and the YAML it was read from; BankError if invalid."""
    display = display_path(path, root or path.parent)
    data = read_yaml(path, display)
    return validate(Rubric, data, display), data


def _parse(load: Callable[[Path, Path], T], path: Path, root: Path, id_key: str) -> Parsed[T]:
    try:
        return Parsed(path, load(path, root))
    except BankError as exc:
        return Parsed(path, None, exc.problems, _declared_ids(path, id_key))


def _declared_ids(path: Path, key: str) -> frozenset[str]:
    """The ids a file declares, read leniently from a file that failed validation."""
    try:
        data = read_yaml(path, str(path))
    except BankError:
        return frozenset()
    items = data if isinstance(data, list) else [data]
    return frozenset(str(item[key]) for item in items if isinstance(item, dict) and key in item)
