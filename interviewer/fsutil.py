"""Files that hold a user's answers: private by default, written atomically.

Every file this program writes for the user (transcripts, the checkpoint database, the
grade cache, exports, caches) is created 0600 and every folder it creates 0700, whatever
the umask. `atomic_write` is the one way files are replaced: a temporary file in the same
folder (a unique name, so two threads or processes never share it), fsynced, then renamed
over the target, so a crash leaves the old file or the new one, never a torn one.
`utf8_text` is the one way a file the user gives is read as text. `file_lock` makes a
load-change-save of one file a single step among processes.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from interviewer.errors import InterviewerError

FILE_MODE = 0o600
DIR_MODE = 0o700
LOCK_WAIT = 10.0  # seconds: a lock is held for a load-change-save, never for slow work


def private_dir(folder: Path) -> Path:
    """Make `folder` (and missing parents) if it is missing; a folder made here is 0700.

    An existing folder keeps its mode: it may be one the user chose and shares on purpose.
    """
    if folder.is_dir():
        return folder
    missing = []
    here = folder
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for made in missing:  # mkdir's mode is masked by the umask; this is not
        with contextlib.suppress(OSError):
            os.chmod(made, DIR_MODE)
    return folder


def private_file(path: Path) -> Path:
    """Make sure `path` exists and is 0600 before another library opens it (SQLite, which
    creates its database, -wal and -shm files with the database file's mode). An existing
    file of ours is tightened to 0600; someone else's is left alone.

    Never opens `path` itself: closing any descriptor of a file drops every POSIX lock this
    process holds on it, so an open-and-close here while another thread's SQLite connection
    holds the file would silently cancel that connection's locks (sqlite.org/howtocorrupt.html
    2.2), and another process could then write beside it or drop its WAL ("disk I/O error").
    """
    private_dir(path.parent)
    try:
        st = path.stat()
    except FileNotFoundError:
        _create_private(path)
    else:
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) != FILE_MODE:
            os.chmod(path, FILE_MODE)
    for suffix in ("-wal", "-shm", "-journal"):  # left by an older version, 0644
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(OSError):
            if side.stat().st_uid == os.getuid():
                os.chmod(side, FILE_MODE)
    return path


def _create_private(path: Path) -> None:
    """Create an empty 0600 `path` unless someone creates it first: an empty file made and
    closed under a unique name, then linked into place, so no descriptor of `path` is
    ever closed here (see private_file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)  # mkstemp makes it 0600 whatever the umask
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another thread or process made it first: theirs is kept
    except OSError:  # a file system without hard links: an exclusive create instead
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def atomic_write(path: Path, data: bytes | str, mode: int = FILE_MODE) -> Path:
    """Replace `path` with `data` (str is written as UTF-8), created with `mode`.

    The folder must exist (`private_dir` makes one). Raises OSError when it cannot be
    written; no temporary file is left behind then.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


# UTF-32 first: its little-endian mark starts with UTF-16's
OTHER_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class NotUtf8(ValueError):
    """A file the user gave is not UTF-8 text: `detail` says what was found, `line` where
    (None: the whole file, by its byte-order mark), `encoding` what it is when known."""

    def __init__(self, detail: str, line: int | None, encoding: str | None = None) -> None:
        super().__init__(detail)
        self.detail, self.line, self.encoding = detail, line, encoding

    def where(self, path: Path | str) -> str:
        """`path`, and the line when there is one: `in.csv:2`."""
        return f"{path}:{self.line}" if self.line else str(path)

    def convert_hint(self, path: Path) -> str:
        """The iconv command that converts the file (from GBK, the commonest, if unknown)."""
        out = f"{path.stem}-utf8{path.suffix}"
        if self.encoding:
            return (
                f"Convert it to UTF-8 and use that file instead: "
                f"iconv -f {self.encoding} -t UTF-8 {path.name} > {out}"
            )
        return (
            f"Convert it to UTF-8 and use that file instead, e.g. from GBK: "
            f"iconv -f GBK -t UTF-8 {path.name} > {out} (name its own encoding if not GBK)"
        )


def utf8_text(raw: bytes) -> str:
    """`raw` as text: UTF-8, with or without a byte-order mark; else NotUtf8."""
    for bom, encoding in OTHER_ENCODINGS:
        if raw.startswith(bom):
            raise NotUtf8(f"the file is {encoding}, not UTF-8", None, encoding)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise NotUtf8(f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x})", line) from None


def same_file(a: Path, b: Path) -> bool:
    """Whether `a` and `b` name one file: the same resolved path, or a hard link."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # a hard link or another name for the same inode
    except OSError:
        return False


def temp_files(path: Path) -> list[Path]:
    """The temporary files `atomic_write` makes for `path` (left behind only by a kill)."""
    return list(path.parent.glob(f".{path.name}.*.tmp"))


def trusted(path: Path) -> bool:
    """Whether `path` and its folder are owned by this user and writable by no one else,
    so that loading code-bearing data from it (a pickle) cannot run someone else's code."""
    try:
        uid = os.getuid()
        for p in (path.parent, path):
            st = os.stat(p)
            if st.st_uid != uid or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
    except OSError:
        return False
    return True


@contextlib.contextmanager
def file_lock(path: Path, what: str, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created 0600 if missing) for the block, waiting at
    most `wait` seconds for another process or thread to let it go, then an error that
    names `what` and the lock file, rather than a wait that never ends. The lock goes with
    the process: a writer that is killed leaves nothing to clean up."""
    deadline = time.monotonic() + wait
    while (fd := try_hold(path)) is None:
        if time.monotonic() >= deadline:
            raise InterviewerError(
                f"{what} is being saved by another process, which has held {path} "
                f"for over {wait:.0f} s",
                hint="Try again in a moment. If no other interviewer process is running, "
                "delete that file.",
            )
        time.sleep(0.02)
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor lets the lock go


def try_hold(path: Path) -> int | None:
    """An exclusive lock on `path` (created 0600 if missing), held until the returned
    descriptor is closed or the process ends; None when another descriptor holds it (in
    this process or another)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:  # no locks on this file system (ENOLCK...): say so, leak nothing
        os.close(fd)
        raise
    return fd
