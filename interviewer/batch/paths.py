"""Output paths are checked before any grading: none may be an input file or another
output, and each must be writable, so that a run never overwrites the answers it grades
or fails after all the work."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from interviewer.errors import InterviewerError
from interviewer.fsutil import same_file


class OutputPathError(InterviewerError):
    """An output option names a path that must not or cannot be written (exit code 2)."""


def check_outputs(inputs: list[Path], outputs: dict[str, Path]) -> None:
    """Refuse an output that is an input, repeats another output, or cannot be written.

    `outputs` maps each option (`--out`, `--csv`, `--report`) to its path.
    """
    seen: dict[str, Path] = {}
    for option, path in outputs.items():
        for source in inputs:
            if same_file(path, source):
                raise OutputPathError(
                    f"{option} {path}: that is the input file {source}; writing there would "
                    "destroy the answers",
                    hint=f"Give {option} another path.",
                )
        for other, other_path in seen.items():
            if same_file(path, other_path):
                raise OutputPathError(
                    f"{option} {path}: {other} writes to the same file",
                    hint=f"Give {option} and {other} different paths.",
                )
        seen[option] = path
        _check_writable(option, path)


def _check_writable(option: str, path: Path) -> None:
    if path.is_dir():
        raise OutputPathError(
            f"{option} {path}: that is a folder", hint="Give a file path (the folder may exist)."
        )
    folder = path.resolve().parent
    if not folder.exists():
        raise OutputPathError(
            f"{option} {path}: the folder {folder} does not exist",
            hint=f"Create it first (mkdir -p {folder}) or give another path.",
        )
    if not folder.is_dir():
        raise OutputPathError(f"{option} {path}: {folder} is not a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(
            f"{option} {path}: the file is read-only", hint="Give another path or allow writing."
        )
    try:  # os.access says yes to root everywhere; only a real file proves the folder
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".interviewer-probe-")
    except OSError as exc:
        raise OutputPathError(
            f"{option} {path}: cannot write in the folder {folder} ({exc.strerror})",
            hint="Give a path in a folder you can write to.",
        ) from None
    os.close(fd)
    os.unlink(probe)
