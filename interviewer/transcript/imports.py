"""Interviews saved where they no longer live: find them, offer them once, import them.

Interviews are saved in the data folder (`transcripts/` in `data_dir`, the same from any
working directory). Earlier versions saved them in `./transcripts` under the folder the
command ran in. Such a folder of the user's own is found, and the exact command to import
it is printed once (`offer`); `interviewer review import DIR` copies its interviews into
the data folder, skipping those already there (`import_folder`).

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
from interviewer.transcript.store import TranscriptStore

EXAMPLES_MARKER = ".interviewer-examples"
OFFERED_FILE = "import-offered.json"  # in data_dir: the folders already offered
LEGACY = Path("transcripts")


def is_examples(folder: Path) -> bool:
    """True for a folder of example interviews (the repository's `transcripts/`)."""
    return (folder / EXAMPLES_MARKER).is_file()


def not_yet_imported(source: Path, dest: Path) -> list[str]:
    """Ids of interviews in `source` that `dest` does not have."""
    have = set(TranscriptStore(dest).ids())
    return [i for i in TranscriptStore(source).ids() if i not in have]


def offer(settings: Settings, cwd: Path | None = None) -> str | None:
    """The hint to print when `./transcripts` holds interviews of the user's own that are
    not in the data folder; None otherwise, and every time after the first for a folder."""
    folder = ((cwd or Path.cwd()) / LEGACY).absolute()
    try:
        if not folder.is_dir() or is_examples(folder):
            return None
        if folder.resolve() == settings.transcripts_dir.absolute().resolve():
            return None
        waiting = not_yet_imported(folder, settings.transcripts_dir)
    except OSError:
        return None
    if not waiting or not _first_offer(settings.data_dir, folder):
        return None
    return (
        f"{len(waiting)} interview(s) in {folder} are not in your data folder "
        f"({settings.transcripts_dir}), so `review`, `stats` and `--resume` do not see them. "
        f"Import them with:\n  interviewer review import {shlex.quote(str(folder))}\n"
        "(This is said once.)"
    )


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


def import_folder(source: Path, dest: Path) -> Imported:
    """Copy every interview in `source` into `dest`, skipping those `dest` already has."""
    if not source.is_dir():
        raise InterviewerError(f"{source} is not a folder", hint="Give the folder of .json files.")
    if is_examples(source):
        raise InterviewerError(
            f"{source} holds example interviews (it has {EXAMPLES_MARKER}), not yours",
            hint=f"Open one by its path: interviewer review show {source / '<id>.json'}",
        )
    if source.resolve() == dest.absolute().resolve():
        raise InterviewerError(f"{source} is the data folder itself: nothing to import")
    into, out = TranscriptStore(dest), Imported()
    for interview_id in TranscriptStore(source).ids():
        try:
            transcript = TranscriptStore(source).load(interview_id)
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
