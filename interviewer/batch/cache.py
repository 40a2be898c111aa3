"""A cache of grades, so that a re-run skips rows already graded: SQLite in the data folder
(the default), or a PostgreSQL table when `database_url` is set (interviewer.batch.pgcache),
shared by every process and machine grading.

The key is a hash of the judge spec, the rubric (its whole content, so an edited rubric is
graded afresh even if its version was not bumped) and the answer.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Protocol

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


def open_grade_cache(settings: Settings) -> Cache:
    if settings.database_url:
        from interviewer.batch.pgcache import PgGradeCache

        return PgGradeCache(settings.database_url)
    return GradeCache(cache_path(settings))


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

    def close(self) -> None:
        self.conn.close()
