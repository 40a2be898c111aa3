"""Concurrent interviews sharing one state lose no step and no answer, on both backends:
12 scripted interviews at once across 3 processes (benchmarks/concurrency.py runs 50
across 4 and times them). Each interview is checked against what its candidate sent:
finished, every answer in its transcript, graded, and in its last checkpoint, once and in
order."""

from __future__ import annotations

from pathlib import Path

from benchmarks.concurrency import run, settings_for, verify


def test_concurrent_interviews_lose_nothing(tmp_path: Path, database_url: str | None) -> None:
    data = tmp_path / "data"
    done, _wall = run(
        database_url=database_url, data_dir=data, interviews=12, processes=3, questions=2
    )
    assert len(done) == 12
    assert sum(len(d.sent) for d in done) >= 12 * 2  # every interview answered its questions
    assert verify(settings_for(data, database_url), done, 12) == []
    if database_url:  # the state is in the database, not in the data folder
        assert not (data / "interviews.sqlite").exists()
        assert not (data / "transcripts").exists()
