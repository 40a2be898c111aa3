"""interviewer.pg: a process waiting for another to create the tables does not deadlock
with it (LangGraph's migrations build indexes CONCURRENTLY; seen with four benchmark
processes starting together); a wrong URL is a clear error."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from interviewer.errors import InterviewerError
from tests.conftest import REPO, free_port

OPEN_ALL = """
import sys
from interviewer.interview.pgcheckpoints import postgres_saver
from interviewer.transcript.pgstore import PgTranscripts
from interviewer.batch.pgcache import PgGradeCache
from interviewer.practice.pgitems import PgItems
url = sys.argv[1]
postgres_saver(url)
PgTranscripts(url); PgGradeCache(url); PgItems(url)
print("ok")
"""


def test_waiting_for_the_schema_lock_never_deadlocks_a_concurrent_index(pg_url: str) -> None:
    """This test plays the process that creates the tables: it holds the schema lock and
    builds an index CONCURRENTLY (as LangGraph's migrations do) while another process
    waits for the lock. Waiting inside a transaction (pg_advisory_lock) deadlocked; the
    other process must wait without one, then create every table."""
    import psycopg

    from interviewer import pg

    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (pg.SCHEMA_LOCK,))
        holder.execute("CREATE TABLE t (x int)")
        other = subprocess.Popen(
            [sys.executable, "-c", OPEN_ALL, pg_url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not _waiting(holder):  # the other process is at the lock
            assert other.poll() is None, other.communicate()[0]
            assert time.monotonic() < deadline, "the other process never reached the lock"
            time.sleep(0.1)
        holder.execute("CREATE INDEX CONCURRENTLY t_x ON t (x)")
        holder.execute("SELECT pg_advisory_unlock(%s)", (pg.SCHEMA_LOCK,))
        output = other.communicate(timeout=120)[0]
    assert other.returncode == 0, output
    with pg.connection(pg_url) as conn:
        tables = {
            r["tablename"]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert {"checkpoints", "transcripts", "grade_cache", "review_items"} <= tables


def _waiting(conn: object) -> bool:
    """Another session has asked for the schema lock (polling it, or blocked on it)."""
    import psycopg

    assert isinstance(conn, psycopg.Connection)
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND query LIKE '%%advisory_lock%%'"
    ).fetchone()
    return bool(row and row[0])


def test_an_unreachable_server_is_a_clear_error() -> None:
    from interviewer.transcript.pgstore import PgTranscripts

    url = f"postgresql://nobody:pw@127.0.0.1:{free_port()}/none"
    with pytest.raises(InterviewerError, match=r"cannot connect to the database") as caught:
        PgTranscripts(url)
    assert "pw" not in str(caught.value).replace("postgresql://nobody:****", "")
