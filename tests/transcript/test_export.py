"""Exports: golden Markdown and HTML from a fixed transcript, escaping, highlighting."""

from __future__ import annotations

import html
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.transcript.export import export
from interviewer.transcript.migrate import parse
from interviewer.transcript.schema import Transcript
from interviewer.transcript.view import attempt_view
from tests.transcript.conftest import DATA

GOLDEN = Path(__file__).parent / "golden"
FIXED = DATA / "v2-reviewed.json"


@pytest.fixture(scope="module")
def fixed() -> Transcript:
    return parse(json.loads(FIXED.read_text("utf-8")))


@pytest.fixture(scope="module")
def fixed_bank() -> Bank:
    return load_bank(DATA / "bank")


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_golden_exports(fixed: Transcript, fixed_bank: Bank, fmt: str) -> None:
    out = export(fixed, fmt, fixed_bank)  # type: ignore[arg-type]
    golden = GOLDEN / f"v2-reviewed.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(out, "utf-8")
    assert out == golden.read_text("utf-8"), f"regenerate with UPDATE_GOLDEN=1 if intended ({fmt})"


def test_json_export_is_the_transcript(fixed: Transcript) -> None:
    out = export(fixed, "json")
    assert parse(json.loads(out)) == fixed


def test_markdown_has_every_answer_and_escapes_it(fixed: Transcript, fixed_bank: Bank) -> None:
    md = export(fixed, "md", fixed_bank)
    lora = next(t for t in fixed.turns if t.question_id == "lora-principle")
    assert "<b>" in lora.attempts[0].answer and "`A`" in lora.attempts[0].answer
    # Markup typed by the candidate is shown, not interpreted.
    assert "<b>" not in md and r"\<b\>" in md
    assert r"\`A\`" in md and r"B\*A" in md
    assert "> \\- **推理时" in md  # a typed "- " does not become a list item
    # Evidence is bold, named by key point, inside the answer.
    assert "*(low-rank-update: covered)*" in md
    # Overrides, regrades, and the key point statements from the bank.
    assert "example-efficiency → partial" in md and r"\<briefly\> & \*vaguely\*" in md
    assert "offline:defaults" in md
    assert fixed_bank.rubric("lora-principle").key_points[0].text.zh in md
    for turn in fixed.turns:
        for a in turn.attempts:
            assert a.at in md


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.marks: list[str] = []
        self._in_mark = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark -= 1

    def handle_data(self, data: str) -> None:
        if self._in_mark and self.tags[-1] == "mark":
            self.marks[-1] += data


def test_html_is_self_contained_escaped_and_highlights_evidence(
    fixed: Transcript, fixed_bank: Bank
) -> None:
    page = export(fixed, "html", fixed_bank)
    assert page.startswith("<!doctype html>")
    assert not re.search(r"(src|href)=", page), "no external resources"
    parser = _Collect()
    parser.feed(page)
    # The only tags are ours: the candidate's <b> and the reviewer's <briefly> are text.
    assert "b" not in parser.tags and "briefly" not in parser.tags
    assert "&lt;b&gt;不增加推理延迟&lt;/b&gt;" in page
    assert "&lt;briefly&gt; &amp; *vaguely*" in page
    # Every evidence quote of every answer is highlighted, in place, with its text intact.
    quotes = {
        v.evidence for t in fixed.turns for a in t.attempts for v in a.grade.verdicts if v.evidence
    }
    assert quotes
    highlighted = "".join(parser.marks)
    for q in quotes:
        assert q in highlighted or all(part in highlighted for part in q.split("，"))
    assert 'class="covered"' in page


def test_runs_cover_the_answer_exactly(fixed: Transcript) -> None:
    for turn in fixed.turns:
        for i, a in enumerate(turn.attempts, start=1):
            view = attempt_view(i, a, None)
            assert "".join(run.text for run in view.runs) == a.answer
            assert view.missing == []


def test_a_quote_not_in_the_answer_is_reported(fixed: Transcript) -> None:
    t = fixed.model_copy(deep=True)
    attempt = t.turns[1].attempts[0]
    v = attempt.grade.verdicts[0]
    attempt.grade.verdicts[0] = v.model_copy(update={"evidence": "words never said <x>"})
    page = export(t, "html")
    assert "quote not found in the answer: " in page
    assert html.escape("words never said <x>") in page
    md = export(t, "md")
    assert "quote not found in the answer" in md


def test_export_without_a_bank_still_has_everything(fixed: Transcript) -> None:
    md = export(fixed, "md")
    for turn in fixed.turns:
        assert turn.question_id in md
        for v in turn.merged.verdicts:
            assert v.key_point in md
