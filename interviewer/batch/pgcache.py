"""The grade cache in PostgreSQL: one row per key (see interviewer.batch.cache.cache_key),
the grade's JSON. Writers never conflict: the same key always holds the same grade, and
the last write wins.

The records of provider batches (`grade --batch-api`) are the SQLite cache's tables,
prefixed `grade_`: a pending submission and its keys, replaced by its job and the job's
keys in one transaction (interviewer.batch.cache). Every process and machine pointed at
the database sees the same jobs, so any of them can `--resume` them.
"""

from __future__ import annotations

import time
from typing import Any

from interviewer import pg
from interviewer.batch.cache import BatchJob, Submission, grouped
from interviewer.judge.schema import Grade

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS grade_cache (
        key text PRIMARY KEY,
        grade text NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS grade_batch_jobs (
        job_id text PRIMARY KEY,
        judge text NOT NULL,
        endpoint text NOT NULL,
        submitted_at double precision NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS grade_batch_requests (
        key text NOT NULL,
        job_id text NOT NULL REFERENCES grade_batch_jobs (job_id),
        PRIMARY KEY (key, job_id)
    )""",
    "CREATE INDEX IF NOT EXISTS grade_batch_requests_job ON grade_batch_requests (job_id)",
    """CREATE TABLE IF NOT EXISTS grade_batch_submissions (
        submission_id text PRIMARY KEY,
        judge text NOT NULL,
        endpoint text NOT NULL,
        created_at double precision NOT NULL,
        owner text
    )""",
    # (a table made before submissions knew their run)
    "ALTER TABLE grade_batch_submissions ADD COLUMN IF NOT EXISTS owner text",
    """CREATE TABLE IF NOT EXISTS grade_batch_submission_keys (
        submission_id text NOT NULL REFERENCES grade_batch_submissions (submission_id),
        key text NOT NULL,
        PRIMARY KEY (submission_id, key)
    )""",
)


KEY_CHUNK = 10_000  # keys a query, when looking jobs up by key


class PgGradeCache:
    def __init__(self, url: str) -> None:
        self.url = url
        pg.ensure_schema(url, "grade_cache", _create)

    def get(self, key: str) -> Grade | None:
        with pg.connection(self.url) as conn:
            row = conn.execute("SELECT grade FROM grade_cache WHERE key = %s", (key,)).fetchone()
        return Grade.model_validate_json(row["grade"]) if row else None

    def put(self, key: str, grade: Grade) -> None:
        with pg.connection(self.url) as conn:
            conn.execute(
                "INSERT INTO grade_cache (key, grade) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET grade = EXCLUDED.grade",
                (key, grade.model_dump_json()),
            )

    # --- provider batch jobs (the contract: interviewer.batch.cache.JobCache) ---------

    def record_submission(
        self, submission_id: str, judge: str, endpoint: str, keys: list[str], owner: str
    ) -> None:
        with pg.connection(self.url) as conn, conn.transaction():
            conn.execute(
                "INSERT INTO grade_batch_submissions (submission_id, judge, endpoint, "
                "created_at, owner) VALUES (%s, %s, %s, %s, %s)",
                (submission_id, judge, endpoint, time.time(), owner),
            )
            conn.execute(
                "INSERT INTO grade_batch_submission_keys (submission_id, key) "
                "SELECT %s, unnest(%s::text[]) ON CONFLICT DO NOTHING",
                (submission_id, keys),
            )

    def submissions(self) -> list[Submission]:
        with pg.connection(self.url) as conn:
            rows = conn.execute(
                "SELECT s.submission_id, s.judge, s.endpoint, s.created_at, s.owner, k.key "
                "FROM grade_batch_submissions s JOIN grade_batch_submission_keys k "
                "ON k.submission_id = s.submission_id "
                "ORDER BY s.created_at, s.submission_id, k.key"
            ).fetchall()
        return [Submission(*row) for row in grouped(_tuples(rows))]

    def drop_submission(self, submission_id: str) -> None:
        with pg.connection(self.url) as conn, conn.transaction():
            _drop_submission(conn, submission_id)

    def record_job(
        self,
        job_id: str,
        judge: str,
        endpoint: str,
        keys: list[str],
        submission_id: str | None = None,
    ) -> None:
        """The job and its keys, replacing its pending submission (if any), in one
        transaction: if the job cannot be recorded, the submission stays."""
        with pg.connection(self.url) as conn, conn.transaction():
            if submission_id is not None:
                _drop_submission(conn, submission_id)
            conn.execute(
                "INSERT INTO grade_batch_jobs (job_id, judge, endpoint, submitted_at) "
                "VALUES (%s, %s, %s, %s)",
                (job_id, judge, endpoint, time.time()),
            )
            conn.execute(
                "INSERT INTO grade_batch_requests (key, job_id) "
                "SELECT unnest(%s::text[]), %s ON CONFLICT DO NOTHING",
                (keys, job_id),
            )

    def jobs_for(self, keys: set[str]) -> list[BatchJob]:
        # The jobs are found by key in the database, KEY_CHUNK keys a query (the primary
        # key serves it), and only theirs read: the tables hold every shard's jobs, and
        # reading them all would cost every run the memory of the largest job list.
        wanted, ids = sorted(keys), set[str]()
        with pg.connection(self.url) as conn:
            for start in range(0, len(wanted), KEY_CHUNK):
                found = conn.execute(
                    "SELECT DISTINCT job_id FROM grade_batch_requests WHERE key = ANY(%s::text[])",
                    (wanted[start : start + KEY_CHUNK],),
                ).fetchall()
                ids.update(row["job_id"] for row in found)
            if not ids:
                return []
            rows = conn.execute(
                "SELECT j.job_id AS id, j.judge, j.endpoint, j.submitted_at AS at, r.key "
                "FROM grade_batch_jobs j JOIN grade_batch_requests r ON r.job_id = j.job_id "
                "WHERE j.job_id = ANY(%s::text[]) "
                "ORDER BY j.submitted_at, j.job_id, r.key",
                (sorted(ids),),
            ).fetchall()
        return [BatchJob(*row) for row in grouped(_tuples(rows))]

    def job_ids(self) -> set[str]:
        with pg.connection(self.url) as conn:
            rows = conn.execute("SELECT job_id FROM grade_batch_jobs").fetchall()
        return {row["job_id"] for row in rows}

    def drop_keys(self, job_id: str, keys: list[str]) -> None:
        with pg.connection(self.url) as conn, conn.transaction():
            conn.execute(
                "DELETE FROM grade_batch_requests WHERE job_id = %s AND key = ANY(%s::text[])",
                (job_id, keys),
            )
            conn.execute(
                "DELETE FROM grade_batch_jobs WHERE job_id = %s AND NOT EXISTS "
                "(SELECT 1 FROM grade_batch_requests WHERE job_id = %s)",
                (job_id, job_id),
            )

    def close(self) -> None:
        pass  # (the connections are the process's pool's)


def _create(conn: pg.Connection) -> None:
    for statement in SCHEMA:  # (one at a time: the pool's connections prepare each)
        conn.execute(statement)


def _drop_submission(conn: pg.Connection, submission_id: str) -> None:
    conn.execute(
        "DELETE FROM grade_batch_submission_keys WHERE submission_id = %s", (submission_id,)
    )
    conn.execute("DELETE FROM grade_batch_submissions WHERE submission_id = %s", (submission_id,))


def _tuples(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows read as tuples in the query's column order, for interviewer.batch.cache.grouped."""
    return [tuple(r.values()) for r in rows]
