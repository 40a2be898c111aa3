"""Transcripts on disk: one file per interview, written atomically, readable only by you.

A write goes through `interviewer.fsutil.atomic_write`: a temporary file in the same folder,
fsynced, then renamed over the old file, so a crash leaves the old file or the new one,
never a torn one (its temporary file is removed by the next save of that interview). Files
are created 0600, a folder made here 0700. Ids are checked so that no id can name a path
outside the folder. Files written by older versions are upgraded when loaded
(interviewer.transcript.migrate); they are rewritten in the new version only when
something is saved. A file that cannot be read (damaged, or from a newer version) is never
overwritten: the first save over it moves it aside to `ID.unreadable-STAMP.json`, kept as
it was, and `set_aside` says so, for the caller to tell the user. `update` loads, changes
and saves one interview under a lock (a hidden `.ID.lock` beside it), so that a reviewer's
override, a regrade and the interview's own saves, in any processes, never save over one
another's changes from an older copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from interviewer.config import Settings, mask_url
from interviewer.errors import InterviewerError
from interviewer.fsutil import atomic_write, file_lock, private_dir
from interviewer.transcript.migrate import parse
from interviewer.transcript.schema import Transcript

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$")
Change = Callable[["Transcript | None"], "Transcript"]
"""What `update` does to an interview: the saved transcript (None: none saved, or, when
tolerant, none that can be read) in, the transcript to save out."""
STALE_SECONDS = 60


def check_id(interview_id: str) -> str:
    if not ID.match(interview_id):
        raise InterviewerError(
            f"{interview_id!r} is not a valid interview id",
            hint="Ids are letters, digits, - and _; `interviewer review list` shows them.",
        )
    return interview_id


@dataclass(frozen=True)
class SetAside:
    """A transcript file that could not be read, moved aside rather than overwritten."""

    original: Path
    kept_as: Path
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.original} could not be read ({self.reason}); it is kept as "
            f"{self.kept_as.name}, and the interview is saved anew as {self.original.name}"
        )


class Transcripts(Protocol):
    """Where interviews are saved: files in a folder (TranscriptStore, the default) or a
    PostgreSQL table (interviewer.transcript.pgstore.PgTranscripts)."""

    set_aside: dict[str, SetAside]
    label: str  # where it is, for messages: the folder, or the database URL (password masked)

    def save(self, transcript: Transcript) -> Path | str:
        """Save (replace) it; returns where it is, to show the user."""
        ...

    def load(self, interview_id: str) -> Transcript: ...

    def update(
        self, interview_id: str, change: Change, tolerant: bool = False
    ) -> tuple[Transcript, Path | str]:
        """Load, change and save `interview_id` as one step that no other update of it, in
        any process, runs inside: the newest saved transcript goes to `change`, and what it
        returns is saved; returns that and where it is. Not `tolerant`: a transcript that
        is missing or cannot be read is an error (`load`'s); `tolerant`: `change` gets
        None for it."""
        ...

    def exists(self, interview_id: str) -> bool: ...

    def ids(self) -> list[str]: ...

    def unfinished(self) -> list[Transcript]:
        """Interviews that did not reach the report, newest first."""
        ...


def _latest(store: Transcripts, interview_id: str, tolerant: bool) -> Transcript | None:
    """The saved transcript; when `tolerant`, None for one missing or unreadable."""
    if not tolerant:
        return store.load(interview_id)
    if not store.exists(interview_id):
        return None
    try:
        return store.load(interview_id)
    except InterviewerError:
        return None  # unreadable: the save moves it aside (files) or replaces it


def open_transcripts(settings: Settings) -> Transcripts:
    """The store `settings` name: PostgreSQL when database_url is set, else the folder."""
    if settings.database_url:
        from interviewer.transcript.pgstore import PgTranscripts

        return PgTranscripts(settings.database_url)
    return TranscriptStore(settings.transcripts_dir)


def label_of(settings: Settings) -> str:
    """Where `open_transcripts(settings)` reads, for messages, without connecting to it."""
    return (
        mask_url(settings.database_url) if settings.database_url else str(settings.transcripts_dir)
    )


def as_store(source: Path | Transcripts) -> Transcripts:
    """`source` itself, or for a folder the files in it."""
    return TranscriptStore(source) if isinstance(source, Path) else source


def read_all(store: Transcripts) -> tuple[list[Transcript], list[str]]:
    """Every transcript `store` can read, in the order of its ids, and "id: why" for each
    one it cannot (for the reader to name, or to pass over)."""
    good: list[Transcript] = []
    bad: list[str] = []
    for interview_id in store.ids():
        try:
            good.append(store.load(interview_id))
        except InterviewerError as exc:
            bad.append(f"{interview_id}: {exc.message}")
    return good, bad


class TranscriptStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.label = str(folder)
        self.set_aside: dict[str, SetAside] = {}
        self._readable: set[str] = set()  # ids whose file was read or written here

    def path(self, interview_id: str) -> Path:
        return self.folder / f"{check_id(interview_id)}.json"

    def save(self, transcript: Transcript) -> Path:
        private_dir(self.folder)
        target = self.path(transcript.id)
        self._keep_unreadable(transcript.id, target)
        atomic_write(target, transcript.model_dump_json(indent=2))
        self._readable.add(transcript.id)
        self._sweep(transcript.id)
        return target

    def update(
        self, interview_id: str, change: Change, tolerant: bool = False
    ) -> tuple[Transcript, Path]:
        private_dir(self.folder)
        lock = self.folder / f".{check_id(interview_id)}.lock"
        with file_lock(lock, f"interview {interview_id}"):
            changed = change(_latest(self, interview_id, tolerant))
            return changed, self.save(changed)

    def _keep_unreadable(self, interview_id: str, target: Path) -> None:
        """Move an existing file that cannot be read out of the way (never overwrite it)."""
        if interview_id in self._readable or not os.path.lexists(target):
            return
        try:
            self.load(interview_id)
            return
        except InterviewerError as exc:
            reason = str(exc).removeprefix(f"{target}: ")
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for n in range(1000):
            kept = target.with_name(f"{interview_id}.unreadable-{stamp}{f'-{n}' if n else ''}.json")
            if not os.path.lexists(kept):
                break
        os.rename(target, kept)
        self.set_aside[interview_id] = SetAside(target, kept, reason)

    def _sweep(self, interview_id: str) -> None:
        """Remove this interview's temporary files left by a writer that was killed before
        its rename. A file younger than STALE_SECONDS may be another writer's, in flight."""
        now = time.time()
        for tmp in self.folder.glob(f".{interview_id}.*.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime > STALE_SECONDS:
                    tmp.unlink()

    def load(self, interview_id: str) -> Transcript:
        path = self.path(interview_id)
        try:
            if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or a device would never end
                raise InterviewerError(
                    f"{path}: not a regular file",
                    hint="Move it out of the transcripts folder.",
                )
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InterviewerError(
                f"no transcript {interview_id!r} in {self.folder}",
                hint="`interviewer review list` shows the saved interviews.",
            ) from None
        except (OSError, ValueError) as exc:
            raise InterviewerError(f"{path}: cannot read the transcript ({exc})") from None
        try:
            transcript = parse(data, str(path))
        except InterviewerError:
            raise
        except Exception as exc:  # a shape the migrations do not expect
            raise InterviewerError(
                f"{path}: not a valid transcript ({type(exc).__name__}: {exc})"
            ) from None
        if transcript.id != interview_id:
            raise InterviewerError(
                f"{path}: holds interview {transcript.id!r}, not {interview_id!r}",
                hint="Rename the file to match the id inside it.",
            )
        self._readable.add(interview_id)
        return transcript

    def exists(self, interview_id: str) -> bool:
        return self.path(interview_id).is_file()

    def ids(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(
            p.stem for p in self.folder.glob("*.json") if ID.match(p.stem) and p.is_file()
        )

    def unfinished(self) -> list[Transcript]:
        out = []
        for interview_id in self.ids():
            try:
                t = self.load(interview_id)
            except (InterviewerError, ValueError):
                continue
            if not t.finished:
                out.append(t)
        return sorted(out, key=lambda t: t.updated, reverse=True)
