"""Bank YAML read with the line of every key and item, and pydantic errors put at those lines.

Files are parsed with ruamel.yaml's round-trip loader, which keeps the line of every key
and item, so that a pydantic error location such as `(2, 'key_points', 1, 'weight')` can
be reported at the line where that value is written.

Bank files are often shared, so they are parsed as untrusted text: YAML aliases (`*name`)
are refused, since a few lines of nested aliases expand to gigabytes ("billion laughs"),
and nesting deeper than MAX_DEPTH is refused; tags never run code (the round-trip loader
builds no Python objects).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

from interviewer.bank.errors import BankError, Problem
from interviewer.fsutil import NotUtf8, utf8_text

M = TypeVar("M", bound=BaseModel)

MAX_DEPTH = 40  # nesting levels; the bank's own files use 5


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


def yaml_files(folder: Path) -> list[Path]:
    """The `.yaml` and `.yml` files directly in `folder`, sorted; none if it is not a folder."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


def read_yaml(path: Path, display: str) -> Any:
    """The file's YAML as ruamel's line-keeping maps and lists; a BankError at its line if not.

    `display` is the file's name in the error (see errors.display_path).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BankError([Problem(display, 0, f"cannot read the file: {exc.strerror}")]) from None
    try:
        text = utf8_text(raw)
    except NotUtf8 as exc:
        problem = Problem(display, exc.line or 0, f"{exc.detail}; save it as UTF-8")
        raise BankError([problem]) from None
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


def line_of(node: Any, loc: Sequence[int | str]) -> int:
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


def item_lines(data: Any) -> Iterator[int]:
    """The line of each item of a top-level YAML list (1 for ever when it is not one)."""
    if isinstance(data, CommentedSeq):
        for i in range(len(data)):
            yield data.lc.item(i)[0] + 1
    else:
        while True:
            yield 1


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


def validate(model: type[M], data: Any, display: str) -> M:
    """`data` as `model`; a BankError with each pydantic error at the line of its value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(display, line_of(data, err["loc"]), _describe(err))
            for err in exc.errors(include_url=False)
        ]
        raise BankError(problems) from None
    except RecursionError:
        raise BankError([Problem(display, 1, "the YAML refers to itself (anchor loop)")]) from None
