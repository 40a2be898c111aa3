"""The interview graph's checkpoints in PostgreSQL: LangGraph's PostgresSaver on this
process's connection pool (interviewer.pg). Its tables are created by its own migrations,
once per process."""

from __future__ import annotations

from langgraph.checkpoint.postgres import PostgresSaver

from interviewer import pg


def postgres_saver(url: str) -> PostgresSaver:
    pg.ensure_schema(url, "checkpoints", lambda conn: PostgresSaver(conn).setup())
    return PostgresSaver(pg.pool(url))
