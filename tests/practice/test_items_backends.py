"""Review items on both backends: a file beside the transcripts and a PostgreSQL row."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
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


def test_a_finished_interview_records_its_items_in_the_configured_store(
    tmp_path: Path, database_url: str | None
) -> None:
    """A real offline interview (Session, as the TUI and plain mode run it) on each backend:
    the points it missed become review items in the same store as its transcript, and
    `--due` would pick them from there."""
    from interviewer.interview.context import InterviewContext
    from interviewer.interview.session import Session
    from interviewer.practice.due import due_items
    from interviewer.transcript.store import open_transcripts
    from tests.conftest import REPO

    settings = load_settings(
        bank_dir=REPO,
        transcripts_dir=tmp_path / "t",
        data_dir=tmp_path / "data",
        database_url=database_url,
    )
    ctx = InterviewContext(topics=["lora"], questions=1, seed=3, follow_up_limit=0)
    session = Session.open(settings, ctx)
    try:
        session.start()
        while not session.done:
            session.send("answer", "我不太清楚。")
        interview_id = session.interview_id
        assert session.practice_error is None
    finally:
        session.close()
    saved = open_transcripts(settings).load(interview_id)
    assert saved.finished and len(saved.turns) == 1
    question = saved.turns[0].question_id
    data = open_items(settings).load()
    assert data.applied == [f"{interview_id}:{question}"]
    missed = {v.key_point for v in saved.turns[0].merged.verdicts if v.verdict != "covered"}
    assert missed, "the offline judge found nothing of '我不太清楚。'"
    assert {i.key_point for i in data.items.values()} == missed
    later = datetime.now(UTC) + timedelta(hours=1)
    assert {i.key_point for i in due_items(data, later)} == missed  # (after its learning step)
    assert (tmp_path / "t" / "practice" / "items.json").exists() == (database_url is None)


def test_a_database_error_on_the_items_never_stops_the_interview(
    tmp_path: Path, pg_url: str
) -> None:
    """The review_items table is gone (renamed away) while an interview runs: the interview
    finishes and keeps the reason in practice_error, as with a file it cannot write; once
    the table is back, `--due`'s catch-up (practice.due.sync) adds the missed points."""
    from interviewer import pg
    from interviewer.interview.context import InterviewContext
    from interviewer.interview.session import Session
    from interviewer.practice.due import Practice, sync
    from tests.conftest import REPO

    settings = load_settings(
        bank_dir=REPO, transcripts_dir=tmp_path / "t", data_dir=tmp_path / "d", database_url=pg_url
    )
    PgItems(pg_url)  # (its table made, as by any earlier interview of this process)
    with pg.connection(pg_url) as conn:
        conn.execute("ALTER TABLE review_items RENAME TO review_items_away")
    session = Session.open(settings, InterviewContext(topics=["lora"], questions=1, seed=3))
    try:
        session.start()
        while not session.done:
            session.send("answer", "我不太清楚。")
        interview_id = session.interview_id
        error = session.practice_error
    finally:
        session.close()
    assert (
        error is not None and "review_items name=default: cannot update the review items" in error
    )
    assert "review_items" in error and "does not exist" in error
    with pg.connection(pg_url) as conn:
        conn.execute("ALTER TABLE review_items_away RENAME TO review_items")
    data = sync(Practice.of_settings(settings))
    assert [a.split(":")[0] for a in data.applied] == [interview_id]
    assert data.items, "the missed points became items"
    assert PgItems(pg_url).load() == data
