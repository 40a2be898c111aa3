"""Where the interview graph's checkpoints live: SQLite in the data folder (the default), or
PostgreSQL when `database_url` is set (interviewer.interview.pgcheckpoints, imported only
then). Either way the saver is LangGraph's own; the crash tests' hooks wrap both."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from interviewer.config import Settings, mask_url
from interviewer.errors import InterviewerError
from interviewer.fsutil import private_file
from interviewer.interview import testhooks

SQLITE_BUSY_SECONDS = 60.0


@dataclass
class Checkpointer:
    saver: BaseCheckpointSaver[Any]
    where: str  # for messages: the file, or the database (password hidden)
    close: Callable[[], None]


def checkpoint_path(settings: Settings) -> Path:
    return settings.data_dir / "interviews.sqlite"


def open_checkpointer(settings: Settings) -> Checkpointer:
    if settings.database_url:
        from interviewer.interview.pgcheckpoints import postgres_saver

        url = settings.database_url
        return Checkpointer(testhooks.hooked(postgres_saver(url)), mask_url(url), lambda: None)
    private = private_file(checkpoint_path(settings))  # 0600 in a 0700 folder: answers
    # Several processes may share the file: wait for a writer rather than fail at once.
    conn = sqlite3.connect(private, check_same_thread=False, timeout=SQLITE_BUSY_SECONDS)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads its header
    except sqlite3.DatabaseError as exc:
        conn.close()
        if not is_damaged(exc):
            raise  # (busy, or a disk error: not the file's fault)
        raise damaged(private, exc) from None
    return Checkpointer(testhooks.hooked(SqliteSaver(conn)), str(private), conn.close)


def is_damaged(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite says the file itself is not a database or is corrupt (not a database
    that is busy, or a disk that failed: moving the file aside would not help those)."""
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def damaged(path: Path, exc: sqlite3.DatabaseError) -> InterviewerError:
    """The error for a checkpoint database SQLite cannot read, saying what to do."""
    return InterviewerError(
        f"{path}: the interviews' checkpoint database cannot be read ({exc})",
        hint=f"Move it aside (mv {path} {path}.damaged) and start again: a new one is made. "
        "The unfinished interviews in it cannot be resumed; finished ones are in the "
        "transcripts.",
    )
