from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interviewer.cli import app
from tests.conftest import REPO

runner = CliRunner()


def test_validate_clean_bank_exits_0(small_bank: Path) -> None:
    result = runner.invoke(app, ["bank", "validate", str(small_bank)])
    assert result.exit_code == 0, result.output
    assert "ok — 1 questions, 1 rubrics, 5 calibration answers" in result.output


def test_validate_broken_bank_exits_2_with_locations(small_bank: Path) -> None:
    (small_bank / "questions" / "lora.yaml").write_bytes(b"- id: \xff\xfe broken\n")
    result = runner.invoke(app, ["bank", "validate", str(small_bank)])
    assert result.exit_code == 2
    assert "questions/lora.yaml:1: the file is not UTF-8" in result.output
    assert "Traceback" not in result.output


def test_validate_single_file(small_bank: Path) -> None:
    ok = runner.invoke(
        app, ["bank", "validate", str(small_bank / "rubrics" / "lora-principle.yaml")]
    )
    assert ok.exit_code == 0, ok.output
    bad = small_bank / "rubrics" / "lora-principle.yaml"
    bad.write_text(bad.read_text("utf-8").replace("version: 1", "version: zero"), "utf-8")
    result = runner.invoke(app, ["bank", "validate", str(bad)])
    assert result.exit_code == 2
    assert "lora-principle.yaml:3: version:" in result.output


def test_list_and_show(small_bank: Path) -> None:
    listed = runner.invoke(app, ["bank", "list", "--bank", str(small_bank), "--lang", "en"])
    assert listed.exit_code == 0, listed.output
    assert "lora-principle" in listed.output
    shown = runner.invoke(app, ["bank", "show", "lora-principle", "--bank", str(small_bank)])
    assert shown.exit_code == 0, shown.output
    assert "merge-no-latency" in shown.output and "Hu et al." in shown.output
    missing = runner.invoke(app, ["bank", "show", "nope", "--bank", str(small_bank)])
    assert missing.exit_code == 2
    assert "no question with id 'nope'" in missing.output


def test_stats_json(small_bank: Path) -> None:
    result = runner.invoke(app, ["bank", "stats", "--json", "--bank", str(small_bank)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["questions"] == 1
    assert data["inventory"] == {
        "total": 63,
        "covered": 1,
        "missing": data["inventory"]["missing"],
    }
    assert "lora-principle" not in data["inventory"]["missing"]
    assert data["calibration"]["answers"] == 5
    assert data["key_points"] == {
        "total": 6,
        "asked": 6,
        "titled": 0,
        "with_partial_if": 0,
        "asked_share_mean": 1.0,
        "min_asked_share": 0.7,
        "under_min_asked": [],
    }


def test_stats_counts_key_points_and_the_asked_share(small_bank: Path) -> None:
    path = small_bank / "rubrics" / "lora-principle.yaml"
    text = path.read_text("utf-8")
    for kp in ("init-scaling", "target-modules", "merge-no-latency"):  # 1 + 1 + 2 of 12
        text = text.replace(f"  - id: {kp}\n", f"  - id: {kp}\n    role: bonus\n", 1)
    text = text.replace(
        "  - id: frozen-base\n",
        "  - id: frozen-base\n    title: {zh: 冻结原权重, en: Frozen base}\n"
        "    partial_if: {zh: 只说冻结, en: Says frozen only}\n",
        1,
    )
    path.write_text(text, "utf-8")
    result = runner.invoke(app, ["bank", "stats", "--bank", str(small_bank)])
    assert result.exit_code == 0, result.output
    assert "Key points: 6 (3 asked, 3 bonus; 1 with a title, 1 with partial_if)" in result.output
    assert "Asked weight share: mean 67%; 1 rubrics under 70%" in result.output
    assert "under: lora-principle" in result.output
    assert "all" in result.output and "Questions" in result.output


def test_schema_files_match_the_models(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bank", "schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("questions", "rubric", "calibration"):
        shipped = (REPO / "schemas" / f"{name}.schema.json").read_text("utf-8")
        fresh = (tmp_path / f"{name}.schema.json").read_text("utf-8")
        assert shipped == fresh, f"schemas/{name}.schema.json is stale: run `make schemas`"


@pytest.mark.parametrize(
    "command", [[], ["bank"], ["bank", "validate"], ["config"], ["config", "show"]]
)
def test_help_explains_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output or "interviewer " in result.output


def test_python_dash_m_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "interviewer", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("interviewer ")
