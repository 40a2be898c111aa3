"""Review items on both backends: a file beside the transcripts and a PostgreSQL row."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from interviewer.config import load_settings
from interviewer.errors import InterviewerError
from interviewer.practice.items import FileItems, open_items
from interviewer.practice.pgitems import PgItems
from tests.practice.helpers import transcript, turn

MON = "2026-12-07T09:00:00+00:00"


def test_record_applies_each_question_once(tmp_path: Path, database_url: str | None) -> None:
    settings = load_settings(transcripts_dir=tmp_path / "t", database_url=database_url)
    items = open_items(settings)
    assert isinstance(items, PgItems if database_url else FileItems)
    assert items.load().items == {}
    t = transcript("i1", turn(MON, {"frozen-base": "missed", "init-scaling": "partial"}))
    assert items.record(t) == 2
    assert items.record(t) == 0  # applied already
    data = open_items(settings).load()
    assert set(data.items) == {"lora-principle/frozen-base", "lora-principle/init-scaling"}
    assert data.applied == ["i1:lora-principle"]
    assert (tmp_path / "t" / "practice" / "items.json").exists() == (database_url is None)


def test_interviews_finishing_at_once_lose_no_items(pg_url: str) -> None:
    """Eight writers at once (threads, each with its own connection from the pool, as
    processes would): every interview's question applied, none overwritten."""
    transcripts = [
        transcript(f"i{n}", turn(MON, {"frozen-base": "missed"}, question_id=f"q{n}"))
        for n in range(8)
    ]
    start = threading.Barrier(len(transcripts))

    def finish(n: int) -> None:
        start.wait()
        PgItems(pg_url).record(transcripts[n])

    threads = [threading.Thread(target=finish, args=(n,)) for n in range(len(transcripts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    data = PgItems(pg_url).load()
    assert sorted(data.applied) == sorted(f"i{n}:q{n}" for n in range(8))
    assert len(data.items) == 8


def test_a_broken_row_is_named_and_left_alone(pg_url: str) -> None:
    from psycopg.types.json import Jsonb

    from interviewer import pg

    items = PgItems(pg_url)
    with pg.connection(pg_url) as conn:
        conn.execute(
            "INSERT INTO review_items (name, data) VALUES ('default', %s)",
            (Jsonb({"items": "not a dict"}),),
        )
    with pytest.raises(InterviewerError, match="review_items name=default: not valid"):
        items.record(transcript("i1", turn(MON, {"frozen-base": "missed"})))
    with pg.connection(pg_url) as conn:
        row = conn.execute("SELECT data FROM review_items").fetchone()
    assert row is not None and row["data"] == {"items": "not a dict"}
