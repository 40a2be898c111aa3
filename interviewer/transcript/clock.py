"""Timestamps in transcripts: ISO 8601, UTC, to the second (as the interview graph writes)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
