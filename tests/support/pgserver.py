"""A real PostgreSQL server in a temporary folder, for the tests and the benchmark.

Debian's `postgresql` package (binaries under /usr/lib/postgresql/*/bin; `make test`
installs it). PostgreSQL refuses to run as root, so when we are root initdb, pg_ctl and the
server run as the package's `postgres` user (through `runuser`), in a temporary folder
that user owns (not under pytest's tmp_path: its parents are root's, 0700). The server
listens on 127.0.0.1 at a free port, its unix socket in that folder. `stop()` stops it
and deletes the folder.

Anything missing or failing raises PgServerError with what to do: a test that cannot start
its server fails, it is not skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "postgres"


class PgServerError(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise PgServerError(
            "no PostgreSQL binaries under /usr/lib/postgresql/*/bin; install Debian's "
            "`postgresql` package (`apt-get install -y postgresql`, or `make test`, which does)"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """One server; `url` is its `postgres` database over TCP."""

    def __init__(self, *, fsync: bool = False) -> None:
        self.bin = _bin_dir()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="interviewer-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.fsync = fsync
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(USER)
            except KeyError:
                raise PgServerError(
                    f"running as root and there is no {USER!r} user to run PostgreSQL as; "
                    "the `postgresql` package creates it (apt-get install -y postgresql)"
                ) from None
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self.as_user = ["runuser", "-u", USER, "--"]

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        cmd = [*self.as_user, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PgServerError(
                f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}{log}"
            )

    def start(self) -> PgServer:
        try:
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            )
            options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c max_connections=200"
            if not self.fsync:
                options += " -F"
            self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)
