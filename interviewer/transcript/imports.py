"""Interviews saved where they no longer live: find them, offer them once, import them.

Interviews are saved in the configured store: the data folder (`transcripts/` in
`data_dir`, the same from any working directory), or the database when `database_url` is
set. Earlier versions saved them in `./transcripts` under the folder the command ran in.
Such a folder of the user's own (and, with a database, the data folder's transcripts) is
found, and the exact command to import it is printed once (`offer`); `interviewer review
import DIR` copies its interviews into the store, skipping those already there
(`import_folder`).

The repository's `transcripts/` holds example interviews, not anyone's own: a file named
EXAMPLES_MARKER in it says so. Such a folder is never offered for import, imported, or
counted by `stats`; `review show PATH` opens an example by its path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from interviewer.config import Settings
from interviewer.errors import InterviewerError
from interviewer.transcript.store import Transcripts, TranscriptStore, as_store, open_transcripts

EXAMPLES_MARKER = ".interviewer-examples"
OFFERED_FILE = "import-offered.json"  # in data_dir: the folders already offered
LEGACY = Path("transcripts")


def is_examples(folder: Path) -> bool:
    """True for a folder of example interviews (the repository's `transcripts/`)."""
    return (folder / EXAMPLES_MARKER).is_file()


def holds_examples(store: Transcripts) -> bool:
    """True for the files of a folder of example interviews."""
    return isinstance(store, TranscriptStore) and is_examples(store.folder)


def not_yet_imported(source: Path, dest: Path | Transcripts) -> list[str]:
    """Ids of interviews in `source` that `dest` (a folder or a store) does not have."""
    have = set(as_store(dest).ids())
    return [i for i in TranscriptStore(source).ids() if i not in have]


def offer(settings: Settings, cwd: Path | None = None) -> str | None:
    """The hint to print when a folder holds interviews of the user's own that are not in
    the configured store: `./transcripts`, and with a database the data folder's
    transcripts. None otherwise, and every time after the first for a folder."""
    candidates = [((cwd or Path.cwd()) / LEGACY).absolute()]
    if settings.database_url:
        candidates.append(settings.transcripts_dir.absolute())
    store: Transcripts | None = None
    for folder in candidates:
        try:
            if not folder.is_dir() or is_examples(folder):
                continue
            if not settings.database_url and folder.resolve() == (
                settings.transcripts_dir.absolute().resolve()
            ):
                continue
            store = store or open_transcripts(settings)
            waiting = not_yet_imported(folder, store)
        except OSError:
            continue
        if not waiting or not _first_offer(settings.data_dir, folder):
            continue
        into = "your database" if settings.database_url else "your data folder"
        return (
            f"{len(waiting)} interview(s) in {folder} are not in {into} "
            f"({store.label}), so `review`, `stats` and `--resume` do not see them. "
            f"Import them with:\n  interviewer review import {shlex.quote(str(folder))}\n"
            "(This is said once.)"
        )
    return None


def _first_offer(data_dir: Path, folder: Path) -> bool:
    """Record that `folder` was offered; False if it had been already (or cannot be told)."""
    record = data_dir / OFFERED_FILE
    offered: list[str] = []
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(record.read_text("utf-8"))
        if isinstance(loaded, list):
            offered = [str(x) for x in loaded]
    key = str(folder.resolve())
    if key in offered:
        return False
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".offered.", suffix=".tmp", dir=data_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump([*offered, key], f, ensure_ascii=False)
        os.replace(tmp, record)
    except OSError:
        return False  # better never than every time
    return True


@dataclass
class Imported:
    copied: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # the same interview already there
    differ: list[str] = field(default_factory=list)  # another version there: kept as it is
    unreadable: list[str] = field(default_factory=list)  # "id: why"


def import_folder(source: Path, dest: Path | Transcripts) -> Imported:
    """Copy every interview in `source` into `dest` (a folder, or a store such as the
    database's), skipping those `dest` already has."""
    if not source.is_dir():
        raise InterviewerError(f"{source} is not a folder", hint="Give the folder of .json files.")
    if is_examples(source):
        raise InterviewerError(
            f"{source} holds example interviews (it has {EXAMPLES_MARKER}), not yours",
            hint=f"Open one by its path: interviewer review show {source / '<id>.json'}",
        )
    into, out = as_store(dest), Imported()
    if isinstance(into, TranscriptStore) and (source.resolve() == into.folder.absolute().resolve()):
        raise InterviewerError(f"{source} is the data folder itself: nothing to import")
    read = TranscriptStore(source)
    for interview_id in read.ids():
        try:
            transcript = read.load(interview_id)
        except InterviewerError as exc:
            out.unreadable.append(f"{interview_id}: {exc.message}")
            continue
        if into.exists(interview_id):
            try:
                same = into.load(interview_id) == transcript
            except InterviewerError:
                same = False
            (out.present if same else out.differ).append(interview_id)
            continue
        into.save(transcript)
        out.copied.append(interview_id)
    return out
