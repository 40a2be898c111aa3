"""The transcript store's contract, the same on both backends: files in the transcripts
folder (the default) and a PostgreSQL table (a real server, tests/support/pgserver.py)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from interviewer.config import Settings, load_settings
from interviewer.errors import InterviewerError
from interviewer.interview.context import InterviewContext
from interviewer.interview.session import Session, unfinished
from interviewer.transcript.pgstore import PgTranscripts
from interviewer.transcript.review import override
from interviewer.transcript.store import TranscriptStore, open_transcripts
from tests.transcript.conftest import ANSWERS, DATA, FOLLOW_UP


@pytest.fixture
def settings(tmp_path: Path, bank_dir: Path, database_url: str | None) -> Settings:
    return load_settings(
        bank_dir=bank_dir,
        transcripts_dir=tmp_path / "transcripts",
        data_dir=tmp_path / "data",
        database_url=database_url,
    )


def run_interview(settings: Settings, *, stop_after: int | None = None, seed: int = 7) -> str:
    """An offline interview of 2 questions; with `stop_after`, left unfinished after that
    many answers. Returns its id."""
    session = Session.open(settings, InterviewContext(questions=2, seed=seed, follow_up_limit=1))
    try:
        session.start()
        sent = 0
        while not session.done and (stop_after is None or sent < stop_after):
            current = session.values["current"]
            text = FOLLOW_UP if current["attempts"] else ANSWERS[current["question_id"]]
            session.send("answer", text)
            sent += 1
        return session.interview_id
    finally:
        session.close()


def test_the_backend_is_the_one_configured(settings: Settings) -> None:
    store = open_transcripts(settings)
    assert isinstance(store, PgTranscripts if settings.database_url else TranscriptStore)


def test_an_interview_is_saved_and_listed(settings: Settings) -> None:
    done = run_interview(settings)
    store = open_transcripts(settings)
    t = store.load(done)
    assert t.finished and len(t.turns) == 2 and t.report is not None
    typed = [a.answer for turn in t.turns for a in turn.attempts]
    assert set(typed) <= {*ANSWERS.values(), FOLLOW_UP} and len(typed) >= 2
    assert store.exists(done) and store.ids() == [done]
    assert not store.exists("no-such-interview")
    on_disk = settings.transcripts_dir / f"{done}.json"
    if settings.database_url:  # nothing of it on this machine's disk
        assert not on_disk.exists()
        assert not (settings.data_dir / "interviews.sqlite").exists()
    else:
        assert on_disk.is_file()


def test_unfinished_lists_only_unfinished_newest_first(settings: Settings) -> None:
    finished = run_interview(settings, seed=1)
    first = run_interview(settings, stop_after=1, seed=2)
    second = run_interview(settings, stop_after=1, seed=3)
    store = open_transcripts(settings)
    for interview_id, updated in ((first, "2030-01-02T00:00:00+00:00"), (second, "2030-01-01")):
        store.save(store.load(interview_id).model_copy(update={"updated": updated}))
    assert [t.id for t in unfinished(settings)] == [first, second]
    store.save(store.load(second).model_copy(update={"updated": "2030-01-03T00:00:00+00:00"}))
    assert [t.id for t in unfinished(settings)] == [second, first]
    assert finished in store.ids()


def test_save_replaces_and_bad_ids_are_refused(settings: Settings) -> None:
    store = open_transcripts(settings)
    t = store.load(run_interview(settings, stop_after=1))
    store.save(t.model_copy(update={"draft": "half an answer"}))
    assert store.load(t.id).draft == "half an answer"
    assert store.ids() == [t.id]
    with pytest.raises(InterviewerError, match="no transcript 'missing'"):
        store.load("missing")
    with pytest.raises(InterviewerError, match="not a valid interview id"):
        store.load("../etc/passwd")


def test_old_versions_are_upgraded_on_load(settings: Settings) -> None:
    raw = json.loads((DATA / "v1-finished.json").read_text("utf-8"))
    store = open_transcripts(settings)
    if isinstance(store, PgTranscripts):
        from psycopg.types.json import Jsonb

        from interviewer import pg

        with pg.connection(store.url) as conn:
            conn.execute(
                "INSERT INTO transcripts (id, created, updated, finished, topics, data) "
                "VALUES (%s, '', '', true, '{}', %s)",
                (raw["id"], Jsonb(raw)),
            )
    else:
        settings.transcripts_dir.mkdir(parents=True)
        (settings.transcripts_dir / f"{raw['id']}.json").write_text(json.dumps(raw), "utf-8")
    t = store.load(raw["id"])
    assert t.schema_version == 2 and t.id == raw["id"] and t.turns


def test_a_broken_row_names_itself(pg_url: str) -> None:
    from psycopg.types.json import Jsonb

    from interviewer import pg

    store = PgTranscripts(pg_url)
    with pg.connection(pg_url) as conn:
        conn.execute(
            "INSERT INTO transcripts (id, created, updated, finished, topics, data) "
            "VALUES ('broken', '', '', false, '{}', %s)",
            (Jsonb({"schema_version": 2, "id": "broken", "turns": "not a list"}),),
        )
    with pytest.raises(InterviewerError, match=r"transcripts id=broken: not a valid transcript"):
        store.load("broken")
    assert store.unfinished() == []  # listed nowhere, as an unreadable file


def test_updates_at_once_lose_none_of_each_others_changes(settings: Settings) -> None:
    """Reviewers overriding the same interview from several threads (each update its own
    load-change-save, as separate processes do): every override is kept."""
    done = run_interview(settings)
    key_point = open_transcripts(settings).load(done).turns[0].merged.verdicts[0].key_point
    errors: list[BaseException] = []

    def reviewer(n: int) -> None:
        store = open_transcripts(settings)
        try:
            for i in range(5):
                override(store, done, 1, key_point, "covered", f"{n}-{i}")
        except BaseException as exc:  # shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=reviewer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    notes = [o.note for o in open_transcripts(settings).load(done).turns[0].overrides]
    assert sorted(notes) == sorted(f"{n}-{i}" for n in range(4) for i in range(5))


def test_an_interview_save_keeps_an_override_saved_meanwhile(settings: Settings) -> None:
    """The interview's own save reads the newest transcript under the same lock."""
    session = Session.open(settings, InterviewContext(questions=2, seed=7, follow_up_limit=0))
    try:
        session.start()
        session.send("answer", ANSWERS[session.values["current"]["question_id"]])
        store = open_transcripts(settings)
        first = store.load(session.interview_id).turns[0]
        override(store, session.interview_id, 1, first.merged.verdicts[0].key_point, "missed", "r")
        session.save(draft="half")
    finally:
        session.close()
    saved = open_transcripts(settings).load(session.interview_id)
    assert saved.draft == "half" and [o.note for o in saved.turns[0].overrides] == ["r"]


def test_an_interview_open_in_one_session_cannot_be_resumed_in_another(
    settings: Settings,
) -> None:
    """Two processes on one interview would each save over the other's answers: the second
    is refused until the first closes it (or its process ends)."""
    first = Session.open(settings, InterviewContext(questions=2, seed=7, follow_up_limit=0))
    try:
        first.start()
        first.send("answer", ANSWERS[first.values["current"]["question_id"]])
        with pytest.raises(InterviewerError, match="open in another interviewer process"):
            Session.open(settings, None, resume=first.interview_id)
    finally:
        first.close()
    again = Session.open(settings, None, resume=first.interview_id)
    again.close()
