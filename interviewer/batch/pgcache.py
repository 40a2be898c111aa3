"""The grade cache in PostgreSQL: one row per key (see interviewer.batch.cache.cache_key),
the grade's JSON. Writers never conflict: the same key always holds the same grade, and
the last write wins."""

from __future__ import annotations

from interviewer import pg
from interviewer.judge.schema import Grade

SCHEMA = """
CREATE TABLE IF NOT EXISTS grade_cache (
    key text PRIMARY KEY,
    grade text NOT NULL
);
"""


class PgGradeCache:
    def __init__(self, url: str) -> None:
        self.url = url
        pg.ensure_schema(url, "grade_cache", lambda conn: conn.execute(SCHEMA))

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

    def close(self) -> None:
        pass  # (the connections are the process's pool's)
