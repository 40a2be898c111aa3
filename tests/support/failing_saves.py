"""Transcript saves that fail, as a read-only disk or a database that is gone makes them
(root ignores chmod, so a test cannot make a folder unwritable)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from interviewer.errors import InterviewerError
from interviewer.transcript.store import TranscriptStore


def read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every transcript save fails as on a read-only file system."""

    def refuse(path: Path, data: object, mode: int = 0) -> Path:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr("interviewer.transcript.store.atomic_write", refuse)


def store_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every transcript save fails with the store's own error (a database that is gone)."""

    def gone(self: TranscriptStore, transcript: object) -> Path:
        raise InterviewerError("cannot connect to the database")

    monkeypatch.setattr(TranscriptStore, "save", gone)


FAILURES = [(read_only, "Read-only file system"), (store_gone, "cannot connect to the database")]
