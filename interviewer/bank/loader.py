"""Load and validate the bank: every problem at once, each as `path:line: message`.

Files are parsed with ruamel.yaml's round-trip loader, which keeps the line of every key
and item, so that a pydantic error location such as `(2, 'key_points', 1, 'weight')` can
be reported at the line where that value is written.

Bank files are often shared, so they are parsed as untrusted text: YAML aliases (`*name`)
are refused, since a few lines of nested aliases expand to gigabytes ("billion laughs"),
and nesting deeper than MAX_DEPTH is refused; tags never run code (the round-trip loader
builds no Python objects).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

from interviewer.bank.schema import (
    CalibrationFile,
    CalibrationItem,
    Question,
    QuestionFile,
    Rubric,
)
from interviewer.errors import InterviewerError
from interviewer.fsutil import atomic_write, private_dir

M = TypeVar("M", bound=BaseModel)

MIN_KEY_POINTS, MAX_KEY_POINTS, MIN_FOLLOW_UPS = 3, 7, 2
MAX_DEPTH = 40  # nesting levels; the bank's own files use 5


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in the bank, at a file and line (1-based; 0 when the file is missing)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class BankError(InterviewerError):
    """The bank (or one file of it) has problems; all of them are listed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(
            f"{lines}\n{count} problem{'s' if count != 1 else ''} in the bank.",
            hint="Fix each line above, then run `interviewer bank validate` again.",
        )


@dataclass(frozen=True)
class Located:
    """Where a loaded object was written."""

    path: Path
    line: int


@dataclass
class Bank:
    """The loaded bank: questions in file order, one rubric per question."""

    root: Path
    questions: dict[str, Question] = field(default_factory=dict)
    rubrics: dict[str, Rubric] = field(default_factory=dict)
    where: dict[str, Located] = field(default_factory=dict)

    def question(self, question_id: str) -> Question:
        try:
            return self.questions[question_id]
        except KeyError:
            raise InterviewerError(
                f"no question with id {question_id!r} in the bank at {self.root}",
                hint="`interviewer bank list` shows the ids.",
            ) from None

    def rubric(self, question_id: str) -> Rubric:
        return self.rubrics[question_id]

    def topics(self) -> list[str]:
        return sorted({q.topic for q in self.questions.values()})

    def by_topic(self, topic: str | None = None) -> list[Question]:
        return [q for q in self.questions.values() if topic is None or q.topic == topic]


def default_bank_dir() -> Path:
    """The built-in bank: packaged beside the code in a wheel, or the repository's own."""
    env = os.environ.get("INTERVIEWER_BANK_DIR")
    if env:
        return Path(env)
    packaged = Path(__file__).resolve().parent.parent / "_bank"
    if (packaged / "questions").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


@cache
def inventory_ids() -> frozenset[str]:
    """Ids of the 63 distinct questions in the seed handbooks (see questions' inventory_ids)."""
    data = json.loads((Path(__file__).parent / "inventory.json").read_text(encoding="utf-8"))
    return frozenset(item["id"] for item in data)


# --- parsing -------------------------------------------------------------------------


class AliasRefused(MarkedYAMLError):
    """A YAML alias (`*name`) in a bank file."""


class _NoAliasComposer(Composer):
    """Composes nodes as ruamel's does, but stops at the first alias, before it expands."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            event = self.parser.get_event()
            raise AliasRefused(
                None,
                None,
                f"YAML alias *{event.anchor} refused: bank files cannot use anchors and "
                f"aliases (&{event.anchor} / *{event.anchor}); write the value out in full",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def _parser() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Composer = _NoAliasComposer
    yaml.max_depth = MAX_DEPTH
    return yaml


def _read_yaml(path: Path, display: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BankError([Problem(display, 0, f"cannot read the file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BankError(
            [
                Problem(
                    display,
                    line,
                    f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
                )
            ]
        ) from None
    try:
        return _parser().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = f"malformed YAML: {exc.problem or exc.context or 'cannot parse'}"
        if isinstance(exc, AliasRefused):
            what = str(exc.problem)
        elif isinstance(exc, MaxDepthExceededError):
            what = f"nested more than {MAX_DEPTH} levels deep; a bank file needs a few"
        raise BankError([Problem(display, line, what)]) from None
    except (YAMLError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise BankError([Problem(display, 1, f"malformed YAML: {exc}")]) from None


def _line_of(node: Any, loc: Sequence[int | str]) -> int:
    """The 1-based line of the deepest node on `loc` that the YAML file has."""
    line = 1
    if isinstance(node, CommentedMap | CommentedSeq):
        line = node.lc.line + 1
    for step in loc:
        try:
            if isinstance(node, CommentedMap) and step in node:
                line = node.lc.key(step)[0] + 1
                node = node[step]
            elif isinstance(node, CommentedSeq) and isinstance(step, int) and step < len(node):
                line = node.lc.item(step)[0] + 1
                node = node[step]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def _describe(error: Any) -> str:
    loc = ""
    for part in error["loc"]:
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    msg = str(error["msg"])
    if error["type"] == "missing":
        return f"{loc}: required field is missing"
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown field (check the spelling; see schemas/ for the fields)"
    return f"{loc}: {msg}" if loc else msg


def _validate(model: type[M], data: Any, display: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(display, _line_of(data, err["loc"]), _describe(err))
            for err in exc.errors(include_url=False)
        ]
        raise BankError(problems) from None
    except RecursionError:
        raise BankError([Problem(display, 1, "the YAML refers to itself (anchor loop)")]) from None


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


def _item_lines(data: Any) -> Iterator[int]:
    if isinstance(data, CommentedSeq):
        for i in range(len(data)):
            yield data.lc.item(i)[0] + 1
    else:
        while True:
            yield 1


# --- the bank ------------------------------------------------------------------------


def load_question_file(path: Path, root: Path | None = None) -> list[tuple[Question, int]]:
    display = _display(path, root or path.parent)
    data = _read_yaml(path, display)
    if data is None:
        return []
    parsed = _validate(QuestionFile, data, display)
    return list(zip(parsed.root, _item_lines(data), strict=False))


def load_rubric_file(path: Path, root: Path | None = None) -> tuple[Rubric, Any]:
    display = _display(path, root or path.parent)
    data = _read_yaml(path, display)
    return _validate(Rubric, data, display), data


def load_bank(root: Path | None = None, *, strict_content: bool = True) -> Bank:
    """Load `root/questions/*.yaml` and `root/rubrics/*.yaml`, check every cross-reference.

    Raises BankError listing every problem found (not just the first). A bank that loaded
    cleanly is kept, as JSON, in the cache directory, keyed by the name, size and time of
    every file it was read from and of this loader's own code: parsing 100+ files with line
    numbers takes seconds, and the interview should start at once.
    """
    root = (root or default_bank_dir()).resolve()
    key = _fingerprint(root, strict_content)
    cached = _cached_bank(key)
    if cached is not None:
        return cached
    bank = _load_bank(root, strict_content)
    _cache_bank(key, bank)
    return bank


def _fingerprint(root: Path, strict_content: bool) -> str | None:
    h = hashlib.sha256(f"{root}\0{strict_content}\0".encode())
    try:
        code = [Path(__file__), Path(__file__).with_name("schema.py")]
        files = [
            *code,
            *sorted(root.glob("questions/*.y*ml")),
            *sorted(root.glob("rubrics/*.y*ml")),
        ]
        for path in files:
            st = path.stat()
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    except OSError:
        return None
    return h.hexdigest()


class _CachedBank(BaseModel):
    """The JSON form of a loaded bank in the cache folder (JSON: loading it runs no code)."""

    root: str
    questions: dict[str, Question]
    rubrics: dict[str, Rubric]
    where: dict[str, tuple[str, int]]


def _cache_path(key: str) -> Path:
    from interviewer.config import cache_dir

    return cache_dir() / f"bank-{key[:32]}.json"


def _cached_bank(key: str | None) -> Bank | None:
    if key is None:
        return None
    try:
        cached = _CachedBank.model_validate_json(_cache_path(key).read_bytes())
    except (OSError, ValueError):  # missing, unreadable or from another version: load the files
        return None
    return Bank(
        root=Path(cached.root),
        questions=cached.questions,
        rubrics=cached.rubrics,
        where={qid: Located(Path(p), line) for qid, (p, line) in cached.where.items()},
    )


def _cache_bank(key: str | None, bank: Bank) -> None:
    if key is None:
        return
    path = _cache_path(key)
    cached = _CachedBank(
        root=str(bank.root),
        questions=bank.questions,
        rubrics=bank.rubrics,
        where={qid: (str(w.path), w.line) for qid, w in bank.where.items()},
    )
    try:
        private_dir(path.parent)
        for old in path.parent.glob("bank-*.*"):  # one entry per bank is enough
            if old != path and old.stat().st_mtime < time.time() - 86_400:
                old.unlink(missing_ok=True)
        atomic_write(path, cached.model_dump_json())
    except OSError:
        pass


def _load_bank(root: Path, strict_content: bool) -> Bank:
    bank = Bank(root=root)
    problems: list[Problem] = []
    qdir, rdir = root / "questions", root / "rubrics"
    if not qdir.is_dir():
        raise BankError([Problem(str(qdir), 0, "no questions/ folder here; is this a bank?")])

    # Ids declared in files that failed validation: known, so that one broken file does
    # not also make its rubric an "orphan" (or its question "rubric-less").
    broken_question_ids: set[str] = set()
    broken_rubric_ids: set[str] = set()

    for path in _yaml_files(qdir):
        try:
            loaded = load_question_file(path, root)
        except BankError as exc:
            problems.extend(exc.problems)
            broken_question_ids.update(_declared_ids(path, "id"))
            continue
        for question, line in loaded:
            here = Located(path, line)
            if question.id in bank.questions:
                first = bank.where[question.id]
                problems.append(
                    Problem(
                        _display(path, root),
                        line,
                        f"duplicate question id {question.id!r} "
                        f"(first at {_display(first.path, root)}:{first.line})",
                    )
                )
                continue
            bank.questions[question.id] = question
            bank.where[question.id] = here

    rubric_data: dict[str, tuple[Path, Any]] = {}
    for path in _yaml_files(rdir):
        display = _display(path, root)
        try:
            rubric, data = load_rubric_file(path, root)
        except BankError as exc:
            problems.extend(exc.problems)
            broken_rubric_ids.update(_declared_ids(path, "question_id") | {path.stem})
            continue
        qid = rubric.question_id
        line = _line_of(data, ["question_id"])
        if qid in broken_question_ids:
            continue
        if qid not in bank.questions:
            problems.append(
                Problem(display, line, f"rubric for {qid!r}, but no question has that id")
            )
            continue
        if qid in bank.rubrics:
            other = _display(rubric_data[qid][0], root)
            problems.append(Problem(display, line, f"second rubric for {qid!r} (also {other})"))
            continue
        if path.stem != qid:
            problems.append(
                Problem(display, line, f"rubric file for {qid!r} should be named {qid}.yaml")
            )
        bank.rubrics[qid] = rubric
        rubric_data[qid] = (path, data)
        problems.extend(_check_rubric(rubric, data, display, strict_content))

    known_inventory = inventory_ids()
    for qid, question in bank.questions.items():
        if qid in broken_rubric_ids:
            continue
        where = bank.where[qid]
        display = _display(where.path, root)
        problems.extend(
            _check_question(question, where.line, display, bank, known_inventory, strict_content)
        )
    if problems:
        raise BankError(problems)
    return bank


def _declared_ids(path: Path, key: str) -> set[str]:
    """The ids a file declares, read leniently from a file that failed validation."""
    try:
        data = _read_yaml(path, str(path))
    except BankError:
        return set()
    items = data if isinstance(data, list) else [data]
    return {str(item[key]) for item in items if isinstance(item, dict) and key in item}


def _check_rubric(rubric: Rubric, data: Any, display: str, strict: bool) -> Iterable[Problem]:
    seen: set[str] = set()
    for i, kp in enumerate(rubric.key_points):
        if kp.id in seen:
            yield Problem(
                display,
                _line_of(data, ["key_points", i, "id"]),
                f"duplicate key point id {kp.id!r}",
            )
        seen.add(kp.id)
    for i, mc in enumerate(rubric.misconceptions):
        if mc.id in seen:
            yield Problem(
                display,
                _line_of(data, ["misconceptions", i, "id"]),
                f"duplicate id {mc.id!r} (key point and misconception ids share one namespace)",
            )
        seen.add(mc.id)
    if strict:
        n = len(rubric.key_points)
        if not MIN_KEY_POINTS <= n <= MAX_KEY_POINTS:
            yield Problem(
                display,
                _line_of(data, ["key_points"]),
                f"{n} key points; a rubric has {MIN_KEY_POINTS} to {MAX_KEY_POINTS}",
            )
        if not rubric.sources:
            yield Problem(
                display, _line_of(data, ["question_id"]), "no sources; name the paper or docs"
            )


def _check_question(
    question: Question,
    line: int,
    display: str,
    bank: Bank,
    known_inventory: frozenset[str],
    strict: bool,
) -> Iterable[Problem]:
    rubric = bank.rubrics.get(question.id)
    if rubric is None:
        yield Problem(display, line, f"question {question.id!r} has no rubric ({question.id}.yaml)")
    else:
        kp_ids = {kp.id for kp in rubric.key_points}
        for fu in question.follow_ups:
            if fu.probes not in kp_ids:
                yield Problem(
                    display,
                    line,
                    f"{question.id}: follow-up probes {fu.probes!r}, which is not a key point "
                    f"of its rubric (key points: {', '.join(sorted(kp_ids))})",
                )
    if strict and len(question.follow_ups) < MIN_FOLLOW_UPS:
        yield Problem(
            display,
            line,
            f"{question.id}: {len(question.follow_ups)} follow-ups; "
            f"a question has at least {MIN_FOLLOW_UPS}",
        )
    for rel in question.related:
        if rel not in bank.questions:
            yield Problem(display, line, f"{question.id}: related question {rel!r} does not exist")
    for inv in question.inventory_ids:
        if inv not in known_inventory:
            yield Problem(display, line, f"{question.id}: unknown inventory id {inv!r}")


# --- calibration ---------------------------------------------------------------------


def load_calibration(path: Path, bank: Bank) -> list[CalibrationItem]:
    """Load calibration answers from a file or a folder of files, checked against the bank."""
    files = _yaml_files(path) if path.is_dir() else [path]
    items: list[CalibrationItem] = []
    problems: list[Problem] = []
    seen_q: dict[str, str] = {}
    for file in files:
        display = _display(file, bank.root)
        try:
            data = _read_yaml(file, display)
            parsed = _validate(CalibrationFile, data or [], display)
        except BankError as exc:
            problems.extend(exc.problems)
            continue
        for i, item in enumerate(parsed.root):
            line = _line_of(data, [i])
            problems.extend(_check_calibration(item, data, i, line, display, bank, seen_q))
            items.append(item)
    if problems:
        raise BankError(problems)
    return items


def _check_calibration(
    item: CalibrationItem,
    data: Any,
    index: int,
    line: int,
    display: str,
    bank: Bank,
    seen_q: dict[str, str],
) -> Iterable[Problem]:
    qid = item.question_id
    if qid in seen_q:
        yield Problem(display, line, f"{qid!r} already has calibration answers in {seen_q[qid]}")
    seen_q[qid] = display
    rubric = bank.rubrics.get(qid)
    if rubric is None:
        yield Problem(display, line, f"calibration for {qid!r}, but the bank has no such question")
        return
    kp_ids = {kp.id for kp in rubric.key_points}
    mc_ids = {mc.id for mc in rubric.misconceptions}
    answer_ids: set[str] = set()
    for j, answer in enumerate(item.answers):
        aline = _line_of(data, [index, "answers", j])
        if answer.id in answer_ids:
            yield Problem(display, aline, f"duplicate answer id {answer.id!r}")
        answer_ids.add(answer.id)
        if set(answer.verdicts) != kp_ids:
            missing = sorted(kp_ids - set(answer.verdicts))
            extra = sorted(set(answer.verdicts) - kp_ids)
            yield Problem(
                display,
                aline,
                f"{answer.id}: verdicts must name every key point of {qid} exactly "
                f"(missing: {missing or 'none'}; unknown: {extra or 'none'})",
            )
        for mc in answer.misconceptions:
            if mc not in mc_ids:
                yield Problem(display, aline, f"{answer.id}: unknown misconception {mc!r}")
