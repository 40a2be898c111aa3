"""`interviewer stats` on both storage backends: with no --dir it reads the configured store
(the database when database_url is set), catches the review items up in the same store,
and writes nothing to the transcripts folder when that store is a database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from interviewer.cli import app
from interviewer.config import Settings
from interviewer.practice.items import open_items
from interviewer.transcript.store import TranscriptStore, open_transcripts
from tests.practice.helpers import transcript, turn

runner = CliRunner()
FIRST, SECOND = "20261201-090000-aaaa", "20261203-090000-bbbb"


def two_interviews(settings: Settings) -> None:
    """Two finished interviews saved through the configured store: target-modules missed
    in the first, everything covered in the second."""
    store = open_transcripts(settings)
    store.save(transcript(FIRST, turn("2026-12-01T09:00:00+00:00", {"target-modules": "missed"})))
    store.save(transcript(SECOND, turn("2026-12-03T09:00:00+00:00", {})))


def test_stats_shows_the_interviews_of_the_configured_store(stored: Settings) -> None:
    two_interviews(stored)
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["interviews"] == 2 and data["answers"] == 2
    assert [t["topic"] for t in data["topics"]] == ["lora"]
    assert [p["id"] for p in data["timeline"]] == [FIRST, SECOND]
    assert [(w["key_point"], w["missed"]) for w in data["weakest"]] == [("target-modules", 1)]

    table = runner.invoke(app, ["stats"])
    assert table.exit_code == 0, table.output
    assert "2 interview(s), 2 answered question(s) in" in table.stdout
    assert "Score per topic over time" in table.stdout
    assert "Review items (--due)" in table.stdout
    # The run caught the review items up from the two interviews, in the same store.
    items = open_items(stored).load()
    reviews = items.items["lora-principle/target-modules"].reviews
    assert [(r.interview_id, r.rating) for r in reviews] == [(FIRST, "again"), (SECOND, "good")]
    assert sorted(items.applied) == [f"{FIRST}:lora-principle", f"{SECOND}:lora-principle"]
    folder = stored.transcripts_dir
    if stored.database_url:
        assert not folder.exists(), "with a database nothing is written to the folder"
    else:
        assert sorted(p.name for p in folder.glob("*.json")) == [f"{FIRST}.json", f"{SECOND}.json"]
        assert (folder / "practice" / "items.json").is_file()


def test_stats_with_dir_reads_that_folder_only(stored: Settings, tmp_path: Path) -> None:
    """--dir keeps its meaning on both backends: that folder, not the configured store."""
    two_interviews(stored)
    other = tmp_path / "other"
    TranscriptStore(other).save(
        transcript("20261205-090000-cccc", turn("2026-12-05T09:00:00+00:00", {}))
    )
    result = runner.invoke(app, ["stats", "--dir", str(other), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["interviews"] == 1
    assert [p["id"] for p in data["timeline"]] == ["20261205-090000-cccc"]
    empty = runner.invoke(app, ["stats", "--dir", str(tmp_path / "none")])
    assert empty.exit_code == 0, empty.output
    assert "No answered questions in" in empty.stdout
