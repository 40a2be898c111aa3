"""A bank that loaded cleanly, kept as JSON in the cache folder so the next start skips parsing.

Parsing 100+ files with line numbers takes seconds, and the interview should start at once.
An entry is keyed by the name, size and time of every file the bank was read from and of
the loader's own code (CODE), so editing any of them makes a new key. It is JSON, checked
by pydantic, so reading one runs no code; an entry that is missing, unreadable or from
another version is passed over and the files are loaded again.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from pydantic import BaseModel

from interviewer.bank.bank import Bank, Located
from interviewer.bank.schema import Question, Rubric
from interviewer.fsutil import atomic_write, private_dir

CODE = ("bank.py", "cache.py", "errors.py", "loader.py", "rules.py", "schema.py", "yamlmap.py")
"""The modules of interviewer.bank that decide what a loaded bank is (and its messages)."""

MAX_AGE = 86_400
"""Seconds after which another bank's entry is removed when a new one is written."""


def fingerprint(root: Path, strict_content: bool) -> str | None:
    """The cache key of the bank at `root`; None when a file cannot be looked at (no caching)."""
    h = hashlib.sha256(f"{root}\0{strict_content}\0".encode())
    try:
        files = [
            *(Path(__file__).with_name(name) for name in CODE),
            *sorted(root.glob("questions/*.y*ml")),
            *sorted(root.glob("rubrics/*.y*ml")),
        ]
        for path in files:
            st = path.stat()
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    except OSError:
        return None
    return h.hexdigest()


class _CachedBank(BaseModel):
    """The JSON form of a loaded bank in the cache folder (JSON: loading it runs no code)."""

    root: str
    questions: dict[str, Question]
    rubrics: dict[str, Rubric]
    where: dict[str, tuple[str, int]]


def cache_path(key: str) -> Path:
    """The file that holds the bank cached under `key`."""
    from interviewer.config import cache_dir

    return cache_dir() / f"bank-{key[:32]}.json"


def read(key: str | None) -> Bank | None:
    """The bank cached under `key`, or None (no key, no entry, or one that does not parse)."""
    if key is None:
        return None
    try:
        cached = _CachedBank.model_validate_json(cache_path(key).read_bytes())
    except (OSError, ValueError):  # missing, unreadable or from another version: load the files
        return None
    return Bank(
        root=Path(cached.root),
        questions=cached.questions,
        rubrics=cached.rubrics,
        where={qid: Located(Path(p), line) for qid, (p, line) in cached.where.items()},
    )


def write(key: str | None, bank: Bank) -> None:
    """Keep `bank` under `key` (0600 in a 0700 folder), dropping other entries over a day old.

    A cache that cannot be written is no error: the next start loads the files again.
    """
    if key is None:
        return
    path = cache_path(key)
    cached = _CachedBank(
        root=str(bank.root),
        questions=bank.questions,
        rubrics=bank.rubrics,
        where={qid: (str(w.path), w.line) for qid, w in bank.where.items()},
    )
    try:
        private_dir(path.parent)
        for old in path.parent.glob("bank-*.*"):  # one entry per bank is enough
            if old != path and old.stat().st_mtime < time.time() - MAX_AGE:
                old.unlink(missing_ok=True)
        atomic_write(path, cached.model_dump_json())
    except OSError:
        pass
