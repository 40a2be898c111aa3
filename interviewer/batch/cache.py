"""A cache of grades, so that a re-run skips rows already graded: SQLite in the data folder
(the default), or PostgreSQL tables when `database_url` is set (interviewer.batch.pgcache),
shared by every process and machine grading.

The key is a hash of the judge spec, the rubric (its whole content, so an edited rubric is
graded afresh even if its version was not bumped) and the answer.

It also records the jobs submitted to a provider's batch API (`grade --batch-api`): which
job holds which grade key, so that `grade --resume` collects them after a crash or a day
later, and a key already in a job is never submitted again. A job's records are dropped
once its results are collected.

A batch is recorded twice: before the provider is asked to create it, as a pending
submission (a local submission id that goes with the batch, and its keys), and once the
provider has answered, as the job, replacing the submission in the same transaction. A
crash in between leaves the submission: the next run looks for its batch at the provider
and adopts it, or drops the submission if the batch was never made (interviewer.batch.
batch_api).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from interviewer.bank.schema import Rubric
from interviewer.config import Settings
from interviewer.fsutil import private_file
from interviewer.judge.schema import Grade


def cache_key(judge: str, rubric: Rubric, answer: str) -> str:
    h = hashlib.sha256()
    for part in (judge, rubric.question_id, str(rubric.version), rubric.model_dump_json(), answer):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


class Cache(Protocol):
    def get(self, key: str) -> Grade | None: ...

    def put(self, key: str, grade: Grade) -> None: ...

    def close(self) -> None: ...


def cache_path(settings: Settings) -> Path:
    return settings.data_dir / "grade-cache.sqlite"


def open_grade_cache(settings: Settings) -> JobCache:
    if settings.database_url:
        from interviewer.batch.pgcache import PgGradeCache

        return PgGradeCache(settings.database_url)
    return GradeCache(cache_path(settings))


@dataclass(frozen=True)
class BatchJob:
    """A job submitted to a provider's batch API, and the grade keys it holds."""

    job_id: str
    judge: str  # the judge spec that submitted it (openai:M, anthropic:M, compatible:M)
    endpoint: str
    submitted_at: float
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Submission:
    """A batch about to be created at a provider (or created, and not recorded yet)."""

    submission_id: str  # sent with the batch, so that it can be found again
    judge: str
    endpoint: str
    created_at: float  # before the provider was asked
    owner: str | None  # "host:pid" of the run submitting it (None: an older version)
    keys: tuple[str, ...]


class JobCache(Cache, Protocol):
    """The grade cache with the records of provider batches (`grade --batch-api`); both
    backends keep the same contract (tests/batch/test_cache.py)."""

    def record_submission(
        self, submission_id: str, judge: str, endpoint: str, keys: list[str], owner: str
    ) -> None: ...

    def submissions(self) -> list[Submission]: ...

    def drop_submission(self, submission_id: str) -> None: ...

    def record_job(
        self,
        job_id: str,
        judge: str,
        endpoint: str,
        keys: list[str],
        submission_id: str | None = None,
    ) -> None: ...

    def jobs_for(self, keys: set[str]) -> list[BatchJob]: ...

    def job_ids(self) -> set[str]: ...

    def drop_keys(self, job_id: str, keys: list[str]) -> None: ...


class GradeCache:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(private_file(path))  # 0600: it holds answers' quotes
        self.conn.execute("PRAGMA journal_mode=WAL")
        # Every grade is committed as soon as it is made; in WAL mode NORMAL keeps each
        # commit safe from a crash of this process without an fsync per row.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS grades (key TEXT PRIMARY KEY, grade TEXT NOT NULL)"
        )
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS batch_jobs (
                job_id TEXT PRIMARY KEY, judge TEXT NOT NULL, endpoint TEXT NOT NULL,
                submitted_at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS batch_requests (
                key TEXT NOT NULL, job_id TEXT NOT NULL REFERENCES batch_jobs (job_id),
                PRIMARY KEY (key, job_id));
            CREATE INDEX IF NOT EXISTS batch_requests_job ON batch_requests (job_id);
            CREATE TABLE IF NOT EXISTS batch_submissions (
                submission_id TEXT PRIMARY KEY, judge TEXT NOT NULL, endpoint TEXT NOT NULL,
                created_at REAL NOT NULL, owner TEXT);
            CREATE TABLE IF NOT EXISTS batch_submission_keys (
                submission_id TEXT NOT NULL
                    REFERENCES batch_submissions (submission_id),
                key TEXT NOT NULL,
                PRIMARY KEY (submission_id, key));
            """
        )
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(batch_submissions)")}
        if "owner" not in columns:  # a cache made before submissions knew their run
            try:
                self.conn.execute("ALTER TABLE batch_submissions ADD COLUMN owner TEXT")
            except sqlite3.OperationalError as exc:  # another process added it meanwhile
                if "duplicate column" not in str(exc):
                    raise
        self.conn.commit()

    def get(self, key: str) -> Grade | None:
        row = self.conn.execute("SELECT grade FROM grades WHERE key = ?", (key,)).fetchone()
        return Grade.model_validate_json(row[0]) if row else None

    def put(self, key: str, grade: Grade) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO grades (key, grade) VALUES (?, ?)",
            (key, grade.model_dump_json()),
        )
        self.conn.commit()

    # --- provider batch jobs ----------------------------------------------------------

    def record_submission(
        self, submission_id: str, judge: str, endpoint: str, keys: list[str], owner: str
    ) -> None:
        """Record a batch about to be submitted (state "submitting") by the run `owner`
        ("host:pid"), in one transaction."""
        with self.conn:
            self.conn.execute(
                "INSERT INTO batch_submissions "
                "(submission_id, judge, endpoint, created_at, owner) VALUES (?, ?, ?, ?, ?)",
                (submission_id, judge, endpoint, time.time(), owner),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO batch_submission_keys (submission_id, key) VALUES (?, ?)",
                [(submission_id, key) for key in keys],
            )

    def submissions(self) -> list[Submission]:
        """The pending submissions, oldest first, each with its keys."""
        rows = self.conn.execute(
            "SELECT s.submission_id, s.judge, s.endpoint, s.created_at, s.owner, k.key "
            "FROM batch_submissions s JOIN batch_submission_keys k "
            "ON k.submission_id = s.submission_id ORDER BY s.created_at, s.submission_id"
        ).fetchall()
        return [Submission(*row) for row in grouped(rows)]

    def drop_submission(self, submission_id: str) -> None:
        """Forget a submission whose batch never reached the provider."""
        with self.conn:
            self._drop_submission(submission_id)

    def _drop_submission(self, submission_id: str) -> None:
        self.conn.execute(
            "DELETE FROM batch_submission_keys WHERE submission_id = ?", (submission_id,)
        )
        self.conn.execute("DELETE FROM batch_submissions WHERE submission_id = ?", (submission_id,))

    def record_job(
        self,
        job_id: str,
        judge: str,
        endpoint: str,
        keys: list[str],
        submission_id: str | None = None,
    ) -> None:
        """Record a submitted job and its keys, replacing its pending submission (if
        any), in one transaction."""
        with self.conn:
            if submission_id is not None:
                self._drop_submission(submission_id)
            self.conn.execute(
                "INSERT INTO batch_jobs (job_id, judge, endpoint, submitted_at) "
                "VALUES (?, ?, ?, ?)",
                (job_id, judge, endpoint, time.time()),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO batch_requests (key, job_id) VALUES (?, ?)",
                [(key, job_id) for key in keys],
            )

    def jobs_for(self, keys: set[str]) -> list[BatchJob]:
        """The recorded jobs that hold any of these keys (each with all of its keys)."""
        rows = self.conn.execute(
            "SELECT j.job_id, j.judge, j.endpoint, j.submitted_at, r.key "
            "FROM batch_jobs j JOIN batch_requests r ON r.job_id = j.job_id "
            "ORDER BY j.submitted_at, j.job_id"
        ).fetchall()
        return [BatchJob(*row) for row in grouped(rows) if keys.intersection(row[-1])]

    def job_ids(self) -> set[str]:
        """Every recorded job's id."""
        return {row[0] for row in self.conn.execute("SELECT job_id FROM batch_jobs")}

    def drop_keys(self, job_id: str, keys: list[str]) -> None:
        """Forget these keys of a job (their results were collected), and the job once it
        holds none."""
        with self.conn:
            self.conn.executemany(
                "DELETE FROM batch_requests WHERE job_id = ? AND key = ?",
                [(job_id, key) for key in keys],
            )
            self.conn.execute(
                "DELETE FROM batch_jobs WHERE job_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM batch_requests WHERE job_id = ?)",
                (job_id, job_id),
            )

    def close(self) -> None:
        self.conn.close()


def grouped(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of (id, ..., key), one per key, as one row per id with the tuple of its keys in
    place of the key, in the rows' order."""
    heads: dict[str, tuple[Any, ...]] = {}
    keys: dict[str, list[str]] = {}
    for *head, key in rows:
        heads.setdefault(head[0], tuple(head))
        keys.setdefault(head[0], []).append(key)
    return [(*head, tuple(keys[row_id])) for row_id, head in heads.items()]
