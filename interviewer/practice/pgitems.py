"""Review items in PostgreSQL: the items file's JSON in one row, updated under a row lock
(SELECT ... FOR UPDATE in one transaction), so that interviews finishing at once in
several processes each add their items and none is lost.

An error of the database (a statement that fails, the server gone mid-way) is raised as an
InterviewerError naming the row, as the file's OSError is caught: the interview that
records its items goes on (Session._remember), and `stats` or `--due` catch the items up
from the saved interviews later."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from interviewer import pg
from interviewer.config import mask_url
from interviewer.errors import InterviewerError
from interviewer.practice.items import ItemsFile, apply_transcripts, fresh_turns
from interviewer.transcript.schema import Transcript

SCHEMA = """
CREATE TABLE IF NOT EXISTS review_items (
    name text PRIMARY KEY,
    data jsonb NOT NULL
);
"""
ROW = "default"  # one set of items per database, as one file per transcripts folder


class PgItems:
    def __init__(self, url: str) -> None:
        self.url = url
        self.where = f"{mask_url(url)} review_items name={ROW}"
        pg.ensure_schema(url, "review_items", lambda conn: conn.execute(SCHEMA))

    def _parse(self, raw: object) -> ItemsFile:
        try:
            return ItemsFile.model_validate(raw)
        except ValidationError as exc:
            detail = str(exc).splitlines()[0]
            raise InterviewerError(
                f"{self.where}: not valid review items ({detail})",
                hint="It is left as it is; fix or delete that row (a new one is started "
                "from the saved interviews).",
            ) from None

    @contextmanager
    def _connection(self, doing: str) -> Iterator[pg.Connection]:
        try:
            with pg.connection(self.url) as conn:
                yield conn
        except psycopg.Error as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InterviewerError(
                f"{self.where}: cannot {doing} the review items ({detail})",
                hint="Saved interviews are not affected; `interviewer stats` or `--due` "
                "catch the items up from them once the database answers again.",
            ) from None

    def load(self) -> ItemsFile:
        with self._connection("read") as conn:
            row = conn.execute("SELECT data FROM review_items WHERE name = %s", (ROW,)).fetchone()
        return ItemsFile() if row is None else self._parse(row["data"])

    def update(self, change: Callable[[ItemsFile], int]) -> int:
        with self._connection("update") as conn, conn.transaction():
            conn.execute(
                "INSERT INTO review_items (name, data) VALUES (%s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (ROW, Jsonb(ItemsFile().model_dump(mode="json"))),
            )
            row = conn.execute(
                "SELECT data FROM review_items WHERE name = %s FOR UPDATE", (ROW,)
            ).fetchone()
            assert row is not None  # inserted above if it was not there
            data = self._parse(row["data"])
            changed = change(data)
            if changed:
                conn.execute(
                    "UPDATE review_items SET data = %s WHERE name = %s",
                    (Jsonb(data.model_dump(mode="json")), ROW),
                )
            return changed

    def record(self, transcript: Transcript) -> int:
        changed = 0

        def apply(data: ItemsFile) -> int:
            nonlocal changed
            if not fresh_turns(data, transcript):
                return 0
            changed = apply_transcripts(data, [transcript])
            return 1  # the applied list grew: save even when no item changed

        self.update(apply)
        return changed
