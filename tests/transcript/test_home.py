"""One home for a user's interviews: transcripts/ in the data folder, from any working
directory; the repository's examples are nobody's; an old ./transcripts of the user's own
is offered for import once, and `review import` brings it in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interviewer.cli import app
from interviewer.config import Settings, config_file, load_settings
from interviewer.transcript.imports import EXAMPLES_MARKER, import_folder, is_examples
from interviewer.transcript.store import TranscriptStore, open_transcripts
from tests.conftest import REPO

EXAMPLES = REPO / "transcripts"
runner = CliRunner()


def example_ids() -> list[str]:
    return TranscriptStore(EXAMPLES).ids()


def home(tmp_path: Path) -> Path:
    """Where the data folder's transcripts are (the autouse fixture sets XDG_DATA_HOME)."""
    return tmp_path / "data" / "interviewer" / "transcripts"


def test_transcripts_live_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().transcripts_dir == home(tmp_path)
    monkeypatch.setenv("INTERVIEWER_DATA_DIR", str(tmp_path / "elsewhere"))
    assert load_settings().transcripts_dir == tmp_path / "elsewhere" / "transcripts"
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(f'transcripts_dir = "{tmp_path / "mine"}"\n', "utf-8")
    assert load_settings().transcripts_dir == tmp_path / "mine", "a config key chooses another"
    chosen = load_settings(transcripts_dir=tmp_path / "flag")
    assert chosen.transcripts_dir == tmp_path / "flag", "so does --transcripts"


def test_the_repository_examples_are_marked() -> None:
    assert is_examples(EXAMPLES) and len(example_ids()) == 3


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    out = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTERVIEWER_", "OPENAI", "ANTHROPIC"))
    }
    out.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return out


def test_an_interview_run_in_the_repository_leaves_its_examples_alone(tmp_path: Path) -> None:
    """What `make run` does (`interviewer` in the repository): the interview is saved in the
    data folder, not among the examples, and is found from any other folder."""
    before = sorted((p.name, p.stat().st_mtime_ns) for p in EXAMPLES.iterdir())
    args = ["--plain", "--topic", "lora", "--questions", "1", "--follow-ups", "0", "--seed", "3"]
    proc = subprocess.run(
        [sys.executable, "-m", "interviewer", "interview", *args],
        input="LoRA 冻结预训练权重，只训练低秩矩阵 A 和 B。\n\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        env=subprocess_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted((p.name, p.stat().st_mtime_ns) for p in EXAMPLES.iterdir()) == before
    saved = Path(proc.stdout.strip().splitlines()[-1])
    assert saved.parent == home(tmp_path) and saved.is_file()
    assert "review import" not in proc.stderr, "the examples are never offered for import"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = subprocess.run(
        [sys.executable, "-m", "interviewer", "review", "list", "--json"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={**subprocess_env(tmp_path), "PYTHONPATH": str(REPO)},
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert [s["id"] for s in json.loads(listed.stdout)] == [saved.stem]


def test_stats_never_counts_the_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["interviews"] == 0, "a new user has no history"
    named = runner.invoke(app, ["stats", "--dir", str(EXAMPLES), "--json"])
    assert named.exit_code == 0, named.output
    data = json.loads(named.stdout)
    assert data["interviews"] == 0 and data["answers"] == 0
    assert EXAMPLES_MARKER in " ".join(data["skipped_files"])


def test_review_opens_an_example_by_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    first = example_ids()[0]
    shown = runner.invoke(app, ["review", "show", f"transcripts/{first}.json"])
    assert shown.exit_code == 0, shown.output
    assert f"Interview {first}" in shown.stdout
    exported = runner.invoke(
        app, ["review", "export", str(EXAMPLES / f"{first}.json"), "--format", "json"]
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["id"] == first
    missing = runner.invoke(app, ["review", "show", "transcripts/nope.json"])
    assert missing.exit_code == 2 and "no such transcript file" in missing.output


def own_old_folder(tmp_path: Path) -> Path:
    """A working folder whose ./transcripts holds two interviews of the user's own."""
    work = tmp_path / "work"
    old = work / "transcripts"
    old.mkdir(parents=True)
    for interview_id in example_ids()[:2]:
        shutil.copy(EXAMPLES / f"{interview_id}.json", old / f"{interview_id}.json")
    return work


def test_an_old_transcripts_folder_is_offered_once_then_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stored: Settings
) -> None:
    """On both backends: the interviews go into the configured store (the database when
    database_url is set, and then nothing is written to the data folder's transcripts)."""
    work = own_old_folder(tmp_path)
    old = work / "transcripts"
    monkeypatch.chdir(work)
    first = runner.invoke(app, ["review", "list"])
    assert first.exit_code == 0, first.output
    assert f"interviewer review import {old}" in first.stderr
    into = "your database" if stored.database_url else "your data folder"
    assert f"2 interview(s) in {old} are not in {into}" in " ".join(first.stderr.split())
    assert "No transcripts in" in first.stdout, "not silently counted from the old folder"
    again = runner.invoke(app, ["stats"])
    assert "review import" not in again.stderr, "offered once"

    imported = runner.invoke(app, ["review", "import", str(old)])
    assert imported.exit_code == 0, imported.output
    assert "imported 2 interview(s)" in imported.stdout
    assert open_transcripts(stored).ids() == sorted(example_ids()[:2])
    for interview_id in example_ids()[:2]:
        copy = home(tmp_path) / f"{interview_id}.json"
        if stored.database_url:
            assert not copy.parent.exists(), "with a database nothing is written to the folder"
        else:
            assert copy.is_file() and oct(copy.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in old.iterdir()) == sorted(
        f"{i}.json" for i in example_ids()[:2]
    ), "the old folder is left as it is"
    listed = runner.invoke(app, ["review", "list", "--json"])
    assert sorted(s["id"] for s in json.loads(listed.stdout)) == sorted(example_ids()[:2])

    twice = runner.invoke(app, ["review", "import", str(old)])
    assert twice.exit_code == 0 and "imported 0 interview(s)" in twice.stdout
    assert "2 already there" in twice.stdout


def test_with_a_database_the_data_folders_own_transcripts_are_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    """Interviews saved in the data folder before database_url was set are offered for
    import into the database once, and `review import` of that folder brings them in."""
    folder = home(tmp_path)
    folder.mkdir(parents=True)
    for interview_id in example_ids()[:2]:
        shutil.copy(EXAMPLES / f"{interview_id}.json", folder / f"{interview_id}.json")
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", pg_url)
    monkeypatch.chdir(tmp_path)  # (no ./transcripts here)
    first = runner.invoke(app, ["review", "list"])
    assert first.exit_code == 0, first.output
    assert "No transcripts in" in first.stdout
    hint = " ".join(first.stderr.split())
    assert f"2 interview(s) in {folder} are not in your database" in hint
    assert f"interviewer review import {folder}" in hint
    imported = runner.invoke(app, ["review", "import", str(folder)])
    assert imported.exit_code == 0, imported.output
    assert "imported 2 interview(s)" in imported.stdout
    listed = runner.invoke(app, ["review", "list", "--json"])
    assert sorted(s["id"] for s in json.loads(listed.stdout)) == sorted(example_ids()[:2])
    assert "review import" not in listed.stderr


def test_an_import_keeps_a_different_version_already_there(tmp_path: Path) -> None:
    work = own_old_folder(tmp_path)
    dest = tmp_path / "dest"
    kept = example_ids()[0]
    dest.mkdir()
    data = json.loads((EXAMPLES / f"{kept}.json").read_text("utf-8"))
    data["updated"] = "2099-01-01T00:00:00+00:00"
    (dest / f"{kept}.json").write_text(json.dumps(data), "utf-8")
    done = import_folder(work / "transcripts", dest)
    assert done.differ == [kept] and done.copied == [example_ids()[1]]
    assert json.loads((dest / f"{kept}.json").read_text("utf-8"))["updated"].startswith("2099")


def test_no_offer_for_the_examples_or_a_folder_already_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert "review import" not in runner.invoke(app, ["review", "list"]).stderr
    refused = runner.invoke(app, ["review", "import", str(EXAMPLES)])
    assert refused.exit_code == 2 and "example interviews" in refused.output

    work = own_old_folder(tmp_path)
    import_folder(work / "transcripts", home(tmp_path))
    monkeypatch.chdir(work)
    assert "review import" not in runner.invoke(app, ["review", "list"]).stderr


def test_review_override_takes_a_transcript_path(tmp_path: Path) -> None:
    """Every review command takes a file's path as well as an id (here on a copy of the
    reviewed example, so that the repository's file is left alone)."""
    reviewed = "20261123-091310-a3a6"
    copy = tmp_path / "copies" / f"{reviewed}.json"
    copy.parent.mkdir()
    shutil.copy(EXAMPLES / f"{reviewed}.json", copy)
    verdict = ["--key-point", "train-loop", "--verdict", "missed", "--note", "by path"]
    result = runner.invoke(app, ["review", "override", str(copy), "--turn", "1", *verdict])
    assert result.exit_code == 0, result.output
    turn = json.loads(copy.read_text("utf-8"))["turns"][0]
    assert turn["overrides"][-1]["note"] == "by path"
    assert not (home(tmp_path) / f"{reviewed}.json").exists()
