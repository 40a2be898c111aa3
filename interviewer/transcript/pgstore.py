"""Transcripts in PostgreSQL: one row per interview, the transcript's JSON (as the file
store writes it) beside the columns listings read, indexed.

A save replaces the row in one statement (INSERT ... ON CONFLICT DO UPDATE), so a reader
in another process sees the old transcript or the new one, never a mix; an update (load,
change, save) runs in one transaction under an advisory lock on the interview's id. Rows written by
older versions are upgraded when loaded (interviewer.transcript.migrate), as files are.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from interviewer import pg
from interviewer.config import mask_url
from interviewer.errors import InterviewerError
from interviewer.fsutil import LOCK_WAIT
from interviewer.transcript.migrate import parse
from interviewer.transcript.schema import Transcript
from interviewer.transcript.store import Change, SetAside, check_id

UPDATE_LOCK = 0x74726E73  # the advisory locks' second key: one interview's update ("trns")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS transcripts (
        id text PRIMARY KEY,
        created text NOT NULL,
        updated text NOT NULL,
        finished boolean NOT NULL,
        topics text[] NOT NULL,
        data jsonb NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS transcripts_updated_idx ON transcripts (updated DESC)",
    "CREATE INDEX IF NOT EXISTS transcripts_unfinished_idx ON transcripts (updated DESC) "
    "WHERE NOT finished",
)


def _create(conn: pg.Connection) -> None:
    for statement in SCHEMA:
        conn.execute(statement)


class PgTranscripts:
    def __init__(self, url: str) -> None:
        self.url = url
        self.label = mask_url(url)
        self.set_aside: dict[str, SetAside] = {}  # (rows are never unreadable halfway)
        pg.ensure_schema(url, "transcripts", _create)

    def where(self, interview_id: str) -> str:
        return f"{mask_url(self.url)} transcripts id={interview_id}"

    def save(self, transcript: Transcript) -> str:
        check_id(transcript.id)
        with pg.connection(self.url) as conn:
            self._upsert(conn, transcript)
        return self.where(transcript.id)

    def update(
        self, interview_id: str, change: Change, tolerant: bool = False
    ) -> tuple[Transcript, str]:
        """As `Transcripts.update`: in one transaction holding a lock on the id (an advisory
        lock, which also covers an interview with no row yet), waited for at most
        LOCK_WAIT seconds."""
        check_id(interview_id)
        with pg.connection(self.url) as conn:
            try:
                with conn.transaction():
                    conn.execute(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT * 1000)}ms'")
                    conn.execute(
                        "SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))",
                        (interview_id, UPDATE_LOCK),
                    )
                    row = conn.execute(
                        "SELECT data FROM transcripts WHERE id = %s", (interview_id,)
                    ).fetchone()
                    current: Transcript | None = None
                    try:
                        current = self._from_row(interview_id, row)
                    except InterviewerError:
                        if not tolerant:
                            raise  # (tolerant: missing or unreadable is None)
                    changed = change(current)
                    self._upsert(conn, changed)
            except psycopg.errors.LockNotAvailable:
                raise InterviewerError(
                    f"interview {interview_id} is being saved by another process, which has "
                    f"held its lock in {mask_url(self.url)} for over {LOCK_WAIT:.0f} s",
                    hint="Try again in a moment.",
                ) from None
        return changed, self.where(changed.id)

    def _from_row(self, interview_id: str, row: Any) -> Transcript:
        """The transcript of a row read by id (None: there is none, an error)."""
        if row is None:
            raise InterviewerError(
                f"no transcript {interview_id!r} in {mask_url(self.url)}",
                hint="`interviewer review list` shows the saved interviews.",
            )
        return self._parse(interview_id, row["data"])

    def _upsert(self, conn: pg.Connection, transcript: Transcript) -> None:
        conn.execute(
            "INSERT INTO transcripts (id, created, updated, finished, topics, data) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
            "created = EXCLUDED.created, updated = EXCLUDED.updated, "
            "finished = EXCLUDED.finished, topics = EXCLUDED.topics, data = EXCLUDED.data",
            (
                transcript.id,
                transcript.created,
                transcript.updated,
                transcript.finished,
                transcript.topics,
                Jsonb(transcript.model_dump(mode="json")),
            ),
        )

    def load(self, interview_id: str) -> Transcript:
        check_id(interview_id)
        with pg.connection(self.url) as conn:
            row = conn.execute(
                "SELECT data FROM transcripts WHERE id = %s", (interview_id,)
            ).fetchone()
        return self._from_row(interview_id, row)

    def _parse(self, interview_id: str, data: Any) -> Transcript:
        where = self.where(interview_id)
        try:
            transcript = parse(data, where)
        except InterviewerError:
            raise
        except Exception as exc:  # a shape the migrations do not expect
            raise InterviewerError(
                f"{where}: not a valid transcript ({type(exc).__name__}: {exc})",
                hint="Fix or delete that row; the other interviews are not affected.",
            ) from None
        if transcript.id != interview_id:
            raise InterviewerError(f"{where}: holds interview {transcript.id!r}")
        return transcript

    def exists(self, interview_id: str) -> bool:
        check_id(interview_id)
        with pg.connection(self.url) as conn:
            row = conn.execute("SELECT 1 FROM transcripts WHERE id = %s", (interview_id,))
            return row.fetchone() is not None

    def ids(self) -> list[str]:
        with pg.connection(self.url) as conn:
            rows = conn.execute("SELECT id FROM transcripts ORDER BY id").fetchall()
        return [r["id"] for r in rows]

    def unfinished(self) -> list[Transcript]:
        with pg.connection(self.url) as conn:
            rows = conn.execute(
                "SELECT id, data FROM transcripts WHERE NOT finished ORDER BY updated DESC"
            ).fetchall()
        out = []
        for row in rows:
            try:
                out.append(self._parse(row["id"], row["data"]))
            except (InterviewerError, ValueError):
                continue  # as the folder store: an unreadable one is not listed
        return out
