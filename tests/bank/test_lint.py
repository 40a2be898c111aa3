"""`interviewer bank lint`: each rule fires on a bad term and not on a good one, at the
line the term is written on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interviewer.bank.lint import DEFAULT_MAX_SHARE, LintFinding, lint_bank, short_term_reason
from interviewer.bank.loader import load_bank
from interviewer.cli import app
from tests.bank.fixture import key_point, misconception, rubric, write_bank

# Six rubrics; every reference answer says "tensor" and 张量, only q0's says LoRA / 低秩.
FILLER = [
    rubric(f"q{i}", reference_en=f"Tensor maths {i}.", reference_zh=f"张量{i}。")
    for i in range(1, 6)
]


def lint(
    tmp_path: Path, *rubrics: dict[str, Any], max_share: float = DEFAULT_MAX_SHARE
) -> list[LintFinding]:
    root = write_bank(tmp_path / "bank", [*rubrics, *FILLER])
    return lint_bank(load_bank(root), max_share=max_share).findings


def terms_of(findings: list[LintFinding], rule: str) -> set[str]:
    return {f.term for f in findings if f.rule == rule and f.term is not None}


@pytest.mark.parametrize("term", ["r", "to", "os", "值", "A", "IT", "Or", " 库 "])
def test_short_terms_are_named(term: str) -> None:
    assert short_term_reason(term) is not None


@pytest.mark.parametrize("term", ["KV", "TP", "PI", "Wq", "W0", "rank", "秩分解", "ΔW", "-d"])
def test_acronyms_and_longer_terms_pass(term: str) -> None:
    assert short_term_reason(term) is None


def test_short_term_found_at_its_line(tmp_path: Path) -> None:
    q0 = rubric(
        "q0",
        key_points=[
            key_point("rank", ["秩", "低秩分解"], ["r", "KV", "low rank"]),
            key_point("pb", ["乙术语"], ["beta term"]),
            key_point("pc", ["丙术语"], ["gamma term"]),
        ],
    )
    findings = lint(tmp_path, q0)
    short = [f for f in findings if f.rule == "short-term"]
    assert {f.term for f in short} == {"秩", "r"}
    lines = (tmp_path / "bank" / "rubrics" / "q0.yaml").read_text("utf-8").splitlines()
    for f in short:
        assert f.file == "rubrics/q0.yaml" and f.item == "rank" and f.severity == "error"
        assert lines[f.line - 1].strip() == f"- {f.term}", (f.line, lines[f.line - 1])


def test_generic_terms_by_share_and_everyday_words(tmp_path: Path) -> None:
    q0 = rubric(
        "q0",
        reference_en="LoRA writes the update as a low-rank tensor product.",
        reference_zh="LoRA 用低秩的张量乘积表示更新。",
        key_points=[
            key_point("pa", ["张量", "低秩"], ["tensor", "LoRA", "result"]),
            key_point("pb", ["问题", "乙术语"], ["beta term"]),
            key_point("pc", ["丙术语"], ["gamma term"]),
        ],
    )
    findings = lint(tmp_path, q0)
    # tensor / 张量 are in 6 of 6 references, LoRA / 低秩 in 1 of 6 (17% < 20%)
    assert terms_of(findings, "generic-term") == {"张量", "tensor", "result", "问题"}
    share = next(f for f in findings if f.term == "tensor")
    assert "100% of the bank's reference answers" in share.message
    loose = lint(tmp_path / "again", q0, max_share=1.0)
    assert terms_of(loose, "generic-term") == {"result", "问题"}


def test_misconception_phrase_inside_the_reference_or_a_key_point(tmp_path: Path) -> None:
    q0 = rubric(
        "q0",
        reference_zh="召回的片段要适量，不是越多越好。",
        reference_en="Distillation gives a new model with FEWER  parameters.",
        key_points=[
            key_point(
                "pa",
                ["甲术语"],
                ["alpha term"],
                text="合并后没有额外延迟。 Merged, it adds no latency.",
            ),
            key_point("pb", ["乙术语"], ["beta term"]),
            key_point("pc", ["丙术语"], ["gamma term"]),
        ],
        misconceptions=[
            misconception("more-better", ["越多越好", "塞得越多召回越准"], []),
            misconception("fewer", [], ["fewer parameters", "quantization removes parameters"]),
            misconception("latency", ["额外延迟"], ["always slower"]),
            misconception("maths", [], ["tensor maths"]),
        ],
    )
    findings = lint(tmp_path, q0)
    found = [f for f in findings if f.rule == "misconception-in-reference"]
    assert {(f.item, f.term) for f in found} == {
        ("more-better", "越多越好"),
        ("fewer", "fewer parameters"),
        ("latency", "额外延迟"),
    }
    by_term = {f.term: f for f in found}
    assert "the reference answer" in by_term["越多越好"].message
    assert "key point pa" in by_term["额外延迟"].message
    # in another question's reference answer ("Tensor maths 1."): a warning naming it
    [elsewhere] = [f for f in findings if f.rule == "misconception-in-other-reference"]
    assert (elsewhere.item, elsewhere.term, elsewhere.severity) == (
        "maths",
        "tensor maths",
        "warning",
    )
    assert "the reference answer of q1" in elsewhere.message


def test_asked_share_and_missing_title_or_partial(tmp_path: Path) -> None:
    low = rubric(
        "q0",
        key_points=[
            key_point("pa", ["甲术语"], ["alpha term"], weight=3),
            key_point("pb", ["乙术语"], ["beta term"], weight=2, role="bonus", title=False),
            key_point("pc", ["丙术语"], ["gamma term"], weight=1, partial_if=False),
        ],
    )
    enough = rubric(
        "q9",
        key_points=[
            key_point("a9", ["甲9术语"], ["alpha9 term"], weight=7),
            key_point("b9", ["乙9术语"], ["beta9 term"], weight=2, role="bonus"),
            key_point("c9", ["丙9术语"], ["gamma9 term"], weight=1, role="bonus"),
        ],
    )
    findings = lint(tmp_path, low, enough)
    asked = [f for f in findings if f.rule == "asked-share"]
    assert [(f.rubric, f.severity) for f in asked] == [("q0", "error")]
    assert "67%" in asked[0].message
    warnings = {(f.rule, f.item) for f in findings if f.severity == "warning"}
    assert warnings == {("missing-title", "pb"), ("missing-partial-if", "pc")}


# --- the command -------------------------------------------------------------------------

runner = CliRunner()


def test_cli_exit_codes_and_locations(tmp_path: Path) -> None:
    bad = rubric(
        "q0",
        key_points=[
            key_point("pa", ["甲术语", "值"], ["alpha term"]),
            key_point("pb", ["乙术语"], ["beta term"]),
            key_point("pc", ["丙术语"], ["gamma term"]),
        ],
    )
    root = write_bank(tmp_path / "bad", [bad, *FILLER])
    result = runner.invoke(app, ["bank", "lint", "--bank", str(root)])
    assert result.exit_code == 1, result.output
    line = next(
        n
        for n, text in enumerate((root / "rubrics" / "q0.yaml").read_text("utf-8").splitlines(), 1)
        if text.strip() == "- 值"
    )
    assert "rubrics/q0.yaml\n" in result.output
    assert f"{line}: error   [short-term] pa: evidence '值'" in result.output
    assert "1 errors, 0 warnings" in result.output

    other_rule = runner.invoke(app, ["bank", "lint", "--bank", str(root), "--rule", "asked-share"])
    assert other_rule.exit_code == 0, other_rule.output
    assert "0 errors, 0 warnings" in other_rule.output
    unknown = runner.invoke(app, ["bank", "lint", "--bank", str(root), "--rule", "nope"])
    assert unknown.exit_code == 2 and "unknown rule nope" in unknown.output

    as_json = runner.invoke(app, ["bank", "lint", "--bank", str(root), "--json"])
    assert as_json.exit_code == 1
    data = json.loads(as_json.output)
    assert data["errors"] == 1
    assert data["findings"][0] | {"message": ""} == {
        "file": "rubrics/q0.yaml",
        "line": line,
        "rubric": "q0",
        "item": "pa",
        "rule": "short-term",
        "severity": "error",
        "term": "值",
        "message": "",
    }


def test_cli_warnings_pass_unless_strict(tmp_path: Path) -> None:
    untitled = rubric(
        "q0",
        key_points=[
            key_point("pa", ["甲术语"], ["alpha term"], title=False),
            key_point("pb", ["乙术语"], ["beta term"]),
            key_point("pc", ["丙术语"], ["gamma term"]),
        ],
    )
    root = write_bank(tmp_path / "warn", [untitled, *FILLER])
    result = runner.invoke(app, ["bank", "lint", "--bank", str(root)])
    assert result.exit_code == 0, result.output
    assert "warning [missing-title] pa" in result.output
    strict = runner.invoke(app, ["bank", "lint", "--bank", str(root), "--strict"])
    assert strict.exit_code == 1
    clean = write_bank(tmp_path / "clean", FILLER)
    ok = runner.invoke(app, ["bank", "lint", "--bank", str(clean), "--strict"])
    assert ok.exit_code == 0, ok.output
    assert "0 errors, 0 warnings" in ok.output


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["bank", "lint", "--help"])
    assert result.exit_code == 0
    assert "Example: interviewer bank lint" in result.output


def test_the_shipped_bank_passes_lint() -> None:
    """Every rubric in the bank: evidence that tells answers apart, asked points carrying
    at least 70% of the weight, every key point with a title and a partial_if line."""
    report = lint_bank(load_bank(None))
    errors = [str(f) for f in report.findings if f.severity == "error"]
    assert errors == []
    untitled = [
        str(f) for f in report.findings if f.rule in ("missing-title", "missing-partial-if")
    ]
    assert untitled == []
