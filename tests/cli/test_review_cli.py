"""`interviewer review ...`, `interviewer stats` and `interviewer eval --from-reviews`."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interviewer.cli import app
from interviewer.config import Settings
from interviewer.transcript.store import TranscriptStore
from tests.support.failing_saves import FAILURES, read_only

DATA = Path(__file__).resolve().parents[1] / "transcript" / "data"
runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two saved interviews (one v1 file, one v2 with a review) and a bank for them."""
    dest = tmp_path / "transcripts"
    dest.mkdir()
    for name in ("v2-reviewed.json", "v1-finished.json"):
        data = json.loads((DATA / name).read_text("utf-8"))
        shutil.copy(DATA / name, dest / f"{data['id']}.json")
    shutil.copytree(DATA / "bank", tmp_path / "bank")
    return dest


def ids(folder: Path) -> tuple[str, str]:
    reviewed = json.loads((DATA / "v2-reviewed.json").read_text("utf-8"))["id"]
    old = json.loads((DATA / "v1-finished.json").read_text("utf-8"))["id"]
    return reviewed, old


def invoke(folder: Path, *args: str) -> tuple[int, str]:
    bank = folder.parent / "bank"
    result = runner.invoke(app, [*args, "--dir", str(folder), "--bank", str(bank)])
    return result.exit_code, result.output


def test_list(folder: Path) -> None:
    reviewed, old = ids(folder)
    result = runner.invoke(app, ["review", "list", "--dir", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert [i["id"] for i in items] == [reviewed, old]  # newest first
    assert items[0]["overrides"] == 1 and items[0]["regrades"] == 1
    table = runner.invoke(app, ["review", "list", "--dir", str(folder)])
    assert table.exit_code == 0, table.output
    assert reviewed in table.output and old in table.output


@pytest.mark.parametrize(
    ("name", "message"),
    [("nodir", "the folder does not exist"), ("some-file.csv", "not a folder")],
)
def test_list_and_eval_refuse_a_dir_that_is_not_a_folder(
    tmp_path: Path, name: str, message: str
) -> None:
    bad = tmp_path / name
    if name.endswith(".csv"):
        bad.write_text("id\n", "utf-8")
    for command in (["review", "list"], ["review", "list", "--json"], ["eval", "--from-reviews"]):
        result = runner.invoke(app, [*command, "--dir", str(bad)])
        assert result.exit_code == 2, (command, result.output)
        assert f"--dir {bad}: {message}" in result.output
        assert "No transcripts" not in result.output and "Traceback" not in result.output
        assert "No overridden key points" not in result.output


def test_list_reads_the_folder_from_settings(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(folder))
    result = runner.invoke(app, ["review", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 2


def test_show(folder: Path) -> None:
    reviewed, _ = ids(folder)
    code, out = invoke(folder, "review", "show", reviewed)
    assert code == 0, out
    assert "sql-groupby-having" in out and "example-efficiency" in out
    assert "override example-efficiency → partial" in out
    assert "regrade by offline:defaults" in out
    assert "WHERE 在分组之前过滤行" in out  # the answer itself


def test_export_to_file_and_stdout(folder: Path, tmp_path: Path) -> None:
    reviewed, old = ids(folder)
    out_file = tmp_path / "r.html"
    code, out = invoke(
        folder, "review", "export", reviewed, "--format", "html", "--out", str(out_file)
    )
    assert code == 0, out
    page = out_file.read_text("utf-8")
    assert page.startswith("<!doctype html>") and "<mark" in page
    code, out = invoke(folder, "review", "export", old, "--format", "md")
    assert code == 0 and out.startswith(f"# Interview {old}")
    code, out = invoke(folder, "review", "export", old, "--format", "json")
    assert json.loads(out)["schema_version"] == 2
    code, out = invoke(folder, "review", "export", old, "--format", "pdf")
    assert code == 2 and "--format must be md, html or json" in out


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
def test_export_refuses_to_overwrite_the_transcript(folder: Path, spelling: str) -> None:
    reviewed, _ = ids(folder)
    source = folder / f"{reviewed}.json"
    before = source.read_bytes()
    out = {
        "same": source,
        "dotted": folder / ".." / folder.name / "." / source.name,
        "symlink": folder.parent / "link.md",
        "hardlink": folder.parent / "hard.md",
    }[spelling]
    if spelling == "symlink":
        out.symlink_to(source)
    if spelling == "hardlink":
        os.link(source, out)
    for target in (str(source), reviewed):  # a file path, or an id in --dir
        code, output = invoke(folder, "review", "export", target, "--out", str(out))
        assert code == 2, output
        assert f"--out {out}: that is the transcript being exported" in output
        assert "Choose another --out path." in output and "wrote" not in output
        assert source.read_bytes() == before
    assert TranscriptStore(folder).load(reviewed).id == reviewed


def test_export_refuses_to_overwrite_another_transcript(folder: Path) -> None:
    reviewed, other = ids(folder)
    victim = folder / f"{other}.json"
    before = victim.read_bytes()
    code, output = invoke(folder, "review", "export", reviewed, "--out", str(victim))
    assert code == 2, output
    assert f"--out {victim}: that is the transcript of interview {other}" in output
    assert "Choose another --out path." in output and "wrote" not in output
    assert victim.read_bytes() == before
    code, output = invoke(folder, "review", "export", reviewed, "--out", str(folder / "r.md"))
    assert code == 0 and "wrote" in output, output  # a new file beside them is fine


def test_export_refuses_to_overwrite_interviewers_own_files(folder: Path) -> None:
    """With --dir elsewhere, --out may still name a file of the configured store or the
    checkpoint database."""
    from interviewer.config import load_settings

    reviewed, _ = ids(folder)
    settings = load_settings()
    for own in (settings.data_dir / "interviews.sqlite", settings.transcripts_dir / "x.json"):
        own.parent.mkdir(parents=True, exist_ok=True)
        own.write_bytes(b"SQLite format 3\x00 or a transcript")
        code, output = invoke(folder, "review", "export", reviewed, "--out", str(own))
        assert code == 2, output
        assert "that is one of interviewer's own files" in output and "wrote" not in output
        assert own.read_bytes() == b"SQLite format 3\x00 or a transcript"
    report = settings.transcripts_dir / f"{reviewed}.report.md"  # as the TUI exports it
    report.write_text("an older export", "utf-8")
    code, output = invoke(folder, "review", "export", reviewed, "--out", str(report))
    assert code == 0 and "wrote" in output, output  # an export may replace an export


def kept_copy(output: str, tmp_path: Path) -> Path:
    kept = Path(output.split("is kept in ", 1)[1].split(".json", 1)[0] + ".json")
    assert kept.is_relative_to(tmp_path / "data" / "interviewer" / "unsaved")
    return kept


def apply_again(output: str) -> int:
    """Run the command the error prints to apply the change again; its exit code."""
    line = output.split("apply it again: ", 1)[1].splitlines()[0]
    words = shlex.split(line)
    assert words[:2] == ["interviewer", "review"]
    return runner.invoke(app, words[1:]).exit_code


OVERRIDE = ["--turn", "2", "--key-point", "target-modules", "--verdict", "covered"]


@pytest.mark.parametrize(("fail", "reason"), FAILURES)
def test_override_that_cannot_be_saved_keeps_it(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fail: Callable[[pytest.MonkeyPatch], None],
    reason: str,
) -> None:
    reviewed, _ = ids(folder)
    source = folder / f"{reviewed}.json"
    before = source.read_bytes()
    fail(monkeypatch)
    note = "said q and v, it's in the follow-up"
    code, out = invoke(folder, "review", "override", reviewed, *OVERRIDE, "--note", note)
    assert code == 2, out
    assert f"cannot save the override to {source}: {reason}" in out
    assert "Traceback" not in out and source.read_bytes() == before
    kept = TranscriptStore(kept_copy(out, tmp_path).parent).load(reviewed)
    assert kept.turns[1].overrides[-1].note == note
    monkeypatch.undo()
    assert apply_again(out) == 0
    assert TranscriptStore(folder).load(reviewed).turns[1].overrides[-1].note == note


def test_override_that_cannot_be_saved_anywhere_prints_the_command(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data folder cannot be written either (under a file, even as root)."""
    reviewed, _ = ids(folder)
    blocker = tmp_path / "a-file"
    blocker.write_text("", "utf-8")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    read_only(monkeypatch)
    code, out = invoke(folder, "review", "override", reviewed, *OVERRIDE, "--note", "n")
    assert code == 2 and "cannot save the override to" in out and "Traceback" not in out
    assert "is kept in" not in out
    monkeypatch.undo()
    assert apply_again(out) == 0
    assert TranscriptStore(folder).load(reviewed).turns[1].overrides[-1].note == "n"


def test_regrade_that_cannot_be_saved_keeps_it(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reviewed, _ = ids(folder)
    source = folder / f"{reviewed}.json"
    before = source.read_bytes()
    read_only(monkeypatch)
    code, out = invoke(folder, "review", "regrade", reviewed, "--judge", "offline")
    assert code == 2, out
    assert f"cannot save the regrade to {source}: Read-only file system" in out
    assert "Traceback" not in out and source.read_bytes() == before
    kept = TranscriptStore(kept_copy(out, tmp_path).parent).load(reviewed)
    assert [r.judge for r in kept.turns[0].regrades][-1] == "offline"
    assert f"cp {kept_copy(out, tmp_path)} {source}" in out
    assert "review regrade" in out.split("apply it again: ", 1)[1]


def test_regrade_prints_the_difference_per_turn(folder: Path) -> None:
    """The newest stored grades of the first question are replaced by all-missed ones; the
    offline judge, grading its answers again, must find what it covers."""
    reviewed, _ = ids(folder)
    store = TranscriptStore(folder)
    before = store.load(reviewed)
    first = before.turns[0].regrades[-1]
    first.merged = first.merged.model_copy(
        update={
            "verdicts": [v.model_copy(update={"verdict": "missed"}) for v in first.merged.verdicts],
            "score": 0.0,
        }
    )
    store.save(before)

    code, out = invoke(folder, "review", "regrade", reviewed, "--judge", "offline")
    assert code == 0, out
    after = store.load(reviewed)
    record = after.turns[0].regrades[-1]
    assert record.judge == "offline" and record.old_score == 0.0 and record.new_score > 0
    assert [len(t.regrades) for t in after.turns] == [2, 2, 2]
    assert [t.attempts for t in after.turns] == [t.attempts for t in before.turns]
    row = next(line for line in out.splitlines() if "sql-groupby-having" in line)
    assert f"{record.new_score:.1f}" in row and f"+{record.new_score:.1f}" in row
    covered = [v.key_point for v in record.merged.verdicts if v.verdict != "missed"]
    assert covered and covered[0] in out
    assert "regraded by offline" in out


def test_override_and_its_errors(folder: Path) -> None:
    reviewed, _ = ids(folder)
    code, out = invoke(
        folder,
        "review",
        "override",
        reviewed,
        "--turn",
        "2",
        "--key-point",
        "target-modules",
        "--verdict",
        "covered",
        "--note",
        "said q and v projections",
    )
    assert code == 0, out
    assert "target-modules → covered" in out
    turn = TranscriptStore(folder).load(reviewed).turns[1]
    assert turn.overrides[-1].note == "said q and v projections"

    cases = [
        (
            ["--turn", "9", "--key-point", "x", "--verdict", "covered"],
            "has no turn 9: its turns are 1-3",
        ),
        (["--turn", "2", "--key-point", "nope", "--verdict", "covered"], "has no key point 'nope'"),
        (
            ["--turn", "2", "--key-point", "target-modules", "--verdict", "yes"],
            "verdict must be covered, partial or missed",
        ),
    ]
    for args, message in cases:
        code, out = invoke(folder, "review", "override", reviewed, *args)
        assert code == 2, out
        assert message in out and "Traceback" not in out


@pytest.mark.parametrize("command", ["show", "export", "regrade", "override"])
@pytest.mark.parametrize(
    ("bad", "message"),
    [("no-such-id", "no transcript 'no-such-id'"), ("../x", "is not a valid interview id")],
)
def test_bad_ids(folder: Path, command: str, bad: str, message: str) -> None:
    extra = {
        "regrade": ["--judge", "offline"],
        "override": ["--turn", "1", "--key-point", "k", "--verdict", "covered"],
    }.get(command, [])
    code, out = invoke(folder, "review", command, bad, *extra)
    assert code == 2, out
    assert message in out and "Traceback" not in out


def test_unreadable_file_is_listed_not_fatal(folder: Path) -> None:
    (folder / "broken.json").write_text("{", "utf-8")
    result = runner.invoke(app, ["review", "list", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "unreadable" in result.output
    code, out = invoke(folder, "review", "show", "broken")
    assert code == 2 and "cannot read the transcript" in out


def test_stats(folder: Path) -> None:
    code, out = invoke(folder, "stats", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["interviews"] == 2
    assert {t["topic"] for t in data["topics"]} == {"lora", "coding"}
    assert data["focus"] == [t["topic"] for t in data["topics"]]
    code, out = invoke(folder, "stats")
    assert code == 0 and "Suggested focus" in out and "█" in out


def test_eval_from_reviews(folder: Path) -> None:
    result = runner.invoke(app, ["eval", "--from-reviews", "--dir", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["interviews"] == 2 and data["key_points"] == 2
    judges = {j["judge"]: j for j in data["judges"]}
    assert set(judges) == {"offline", "offline:defaults"}
    assert judges["offline"]["compared"] == 2
    table = runner.invoke(app, ["eval", "--from-reviews", "--dir", str(folder)])
    assert table.exit_code == 0 and "agreement" in table.output


def test_eval_from_reviews_reads_the_configured_store(folder: Path, stored: Settings) -> None:
    """Without --dir, on both backends: the reviewed interviews saved in the configured
    store (the database when database_url is set), the same figures as from the folder."""
    from interviewer.transcript.store import label_of, open_transcripts

    into = open_transcripts(stored)
    for interview_id in ids(folder):
        into.save(TranscriptStore(folder).load(interview_id))
    result = runner.invoke(app, ["eval", "--from-reviews", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["folder"] == label_of(stored)
    assert data["interviews"] == 2 and data["key_points"] == 2
    judges = {j["judge"]: j for j in data["judges"]}
    assert set(judges) == {"offline", "offline:defaults"}
    assert judges["offline"]["compared"] == 2
    if stored.database_url:
        assert not stored.transcripts_dir.exists()
    (folder.parent / "none").mkdir()  # a folder with no transcripts (a missing one is refused)
    empty = runner.invoke(app, ["eval", "--from-reviews", "--dir", str(folder.parent / "none")])
    assert empty.exit_code == 0 and "No overridden key points in" in empty.output


def test_help_has_examples() -> None:
    for args in (["review", "--help"], ["review", "override", "--help"], ["stats", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Example" in result.output


def test_list_show_and_override_read_the_database(
    folder: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With INTERVIEWER_DATABASE_URL and no --dir, `review` reads and writes the database's
    transcripts (the folder's are not looked at)."""
    from interviewer.transcript.pgstore import PgTranscripts

    reviewed, old = ids(folder)
    into = PgTranscripts(pg_url)
    for interview_id in (reviewed, old):
        into.save(TranscriptStore(folder).load(interview_id))
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", pg_url)
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(folder.parent / "empty"))
    listed = runner.invoke(app, ["review", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [i["id"] for i in json.loads(listed.output)] == [reviewed, old]
    shown = runner.invoke(app, ["review", "show", old])
    assert shown.exit_code == 0, shown.output
    turn = into.load(old).turns[0]
    key_point = turn.merged.verdicts[0].key_point
    bank = str(folder.parent / "bank")
    args = ["override", old, "--turn", "1", "--key-point", key_point, "--verdict", "missed"]
    changed = runner.invoke(app, ["review", *args, "--bank", bank])
    assert changed.exit_code == 0, changed.output
    assert into.load(old).turns[0].overrides[-1].verdict == "missed"
