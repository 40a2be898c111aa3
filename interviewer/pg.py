"""PostgreSQL connections, when `database_url` (INTERVIEWER_DATABASE_URL) is set.

Only the PostgreSQL implementations of the stores import this module, and only they import
psycopg: without a postgresql:// URL nothing here is loaded (start-up time).

One connection pool per URL and process, shared by every store and session in it (an
interview's checkpointer, its transcripts, the grade cache, the review items); its
connections are in autocommit mode with rows as dicts, which is what LangGraph's
PostgresSaver needs. A store that writes several statements as one opens a transaction on
the connection it borrows. Tables are created once per process and URL (`ensure_schema`),
under an advisory lock, so that processes starting together do not race to create them.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from interviewer.config import mask_url
from interviewer.errors import InterviewerError

Connection = psycopg.Connection[dict[str, Any]]
POOL_SIZE = 20  # connections per process: one per interview stepping at once
SCHEMA_LOCK = 0x696E7476  # the advisory lock creating tables ("intv")
SCHEMA_WAIT = 120.0  # seconds to wait for another process creating them

_pools: dict[str, ConnectionPool[Connection]] = {}
_ready: set[tuple[str, str]] = set()
_lock = threading.Lock()


def pool(url: str) -> ConnectionPool[Connection]:
    """This process's pool for `url`, opened on first use (and its server checked)."""
    with _lock:
        found = _pools.get(url)
        if found is not None:
            return found
        made: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
            open=False,
            name="interviewer",
        )
        try:
            made.open(wait=True, timeout=10)
        except Exception as exc:
            made.close()
            raise unreachable(url, exc) from None
        _pools[url] = made
        return made


def unreachable(url: str, exc: BaseException) -> InterviewerError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InterviewerError(
        f"cannot connect to the database {mask_url(url)} ({detail})",
        hint="Check that the server runs and the URL is right (INTERVIEWER_DATABASE_URL or "
        "database_url in config.toml); unset it to keep state in local files.",
    )


@contextmanager
def connection(url: str) -> Iterator[Connection]:
    """A connection from the pool, given back after the block. Only failing to get one is
    reported as "cannot connect"; an error of a statement is raised as it is."""
    found = pool(url)
    try:
        conn = found.getconn()
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise unreachable(url, exc) from None
    try:
        yield conn
    finally:
        found.putconn(conn)


def ensure_schema(url: str, name: str, create: Callable[[Connection], object]) -> None:
    """Run `create` (CREATE TABLE IF NOT EXISTS...) once per process for `name`, holding an
    advisory lock so that two processes never create the same table at once.

    The lock is taken by polling pg_try_advisory_lock, never by waiting in
    pg_advisory_lock: LangGraph's migrations create indexes CONCURRENTLY, which waits for
    every open transaction, and a process waiting for the lock inside one would deadlock
    with the process holding it (seen with four processes starting together)."""
    if (url, name) in _ready:
        return
    with connection(url) as conn:
        deadline = time.monotonic() + SCHEMA_WAIT
        while not _try_lock(conn):
            if time.monotonic() > deadline:
                raise InterviewerError(
                    f"{mask_url(url)}: another process held the schema lock "
                    f"(pg_advisory_lock {SCHEMA_LOCK}) for over {SCHEMA_WAIT:.0f} s",
                    hint="Look for a stuck `interviewer` process in pg_stat_activity.",
                )
            time.sleep(0.05)
        try:
            create(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
    _ready.add((url, name))


def _try_lock(conn: Connection) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (SCHEMA_LOCK,)).fetchone()
    return bool(row and row["got"])


def close(url: str) -> None:
    """Close this process's pool for `url` (a new one opens on next use)."""
    with _lock:
        found = _pools.pop(url, None)
        for key in [k for k in _ready if k[0] == url]:
            _ready.discard(key)
    if found is not None:
        found.close()


@atexit.register
def close_all() -> None:
    with _lock:
        for made in _pools.values():
            made.close()
        _pools.clear()
        _ready.clear()
