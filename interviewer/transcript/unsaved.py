"""Where an interview goes when its own file cannot be written: a reviewer's override or a
re-grade is kept under the data folder's `unsaved/`, never dropped."""

from __future__ import annotations

import tempfile
from pathlib import Path

from interviewer.errors import InterviewerError
from interviewer.fsutil import atomic_write, private_dir
from interviewer.transcript.schema import Transcript


def keep_unsaved(transcript: Transcript, data_dir: Path) -> Path | None:
    """Write `transcript` to a new folder under `data_dir`/unsaved/ (private, as it holds
    the answers) and return its path; None when that cannot be written either."""
    try:
        unsaved = private_dir(data_dir / "unsaved")
        folder = Path(tempfile.mkdtemp(prefix=f"{transcript.id}-", dir=unsaved))
        return atomic_write(folder / f"{transcript.id}.json", transcript.model_dump_json(indent=2))
    except OSError:
        return None


def why_not_saved(exc: Exception) -> str:
    """A save's failure in a few words: a file system's reason, a store's message."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, InterviewerError):
        return exc.message
    return str(exc) or type(exc).__name__
