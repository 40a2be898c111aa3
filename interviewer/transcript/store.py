"""Transcripts on disk: one file per interview, written atomically, readable only by you.

A write goes to a temporary file in the same folder, is fsynced, then renamed over the old
file, so a crash leaves the old file or the new one, never a torn one (its temporary
file is removed by the next save of that interview). Files are created
0600. Ids are checked so that no id can name a path outside the folder. Files written by
older versions are upgraded when loaded (interviewer.transcript.migrate); they are
rewritten in the new version only when something is saved.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

from interviewer.errors import InterviewerError
from interviewer.transcript.migrate import parse
from interviewer.transcript.schema import Transcript

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$")
STALE_SECONDS = 60


def check_id(interview_id: str) -> str:
    if not ID.match(interview_id):
        raise InterviewerError(
            f"{interview_id!r} is not a valid interview id",
            hint="Ids are letters, digits, - and _; `interviewer review list` shows them.",
        )
    return interview_id


class TranscriptStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, interview_id: str) -> Path:
        return self.folder / f"{check_id(interview_id)}.json"

    def save(self, transcript: Transcript) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(transcript.id)
        data = transcript.model_dump_json(indent=2).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=f".{transcript.id}.", suffix=".tmp", dir=self.folder)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._sweep(transcript.id)
        return target

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
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InterviewerError(
                f"no transcript {interview_id!r} in {self.folder}",
                hint="`interviewer review list` shows the saved interviews.",
            ) from None
        except (OSError, ValueError) as exc:
            raise InterviewerError(f"{path}: cannot read the transcript ({exc})") from None
        transcript = parse(data, str(path))
        if transcript.id != interview_id:
            raise InterviewerError(
                f"{path}: holds interview {transcript.id!r}, not {interview_id!r}",
                hint="Rename the file to match the id inside it.",
            )
        return transcript

    def exists(self, interview_id: str) -> bool:
        return self.path(interview_id).is_file()

    def ids(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json") if ID.match(p.stem))
