from __future__ import annotations

import itertools
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.llama_server import running
from tests.support.pgserver import PgServer

if TYPE_CHECKING:
    from interviewer.config import Settings

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def small_bank(tmp_path: Path) -> Path:
    """A copy of the one-question bank in tests/data/bank, safe to break."""
    dest = tmp_path / "bank"
    shutil.copytree(DATA / "bank", dest)
    return dest


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The derived files (parsed tokenizer, pruned dictionary, bank cache), built once a
    run: in a temporary folder, not in the user's ~/.cache."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _session_cache: Path) -> None:
    """Keep the user's real config, keys, data and caches out of every test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(_session_cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith("INTERVIEWER_"):
            monkeypatch.delenv(var, raising=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """A real llama.cpp server (xllamacpp + SmolLM2-135M) on a free loopback port.

    Yields its base URL (ending in /v1); stopped when the session ends.
    """
    with running() as url:
        yield url


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the session (tests/support/pgserver.py). If it cannot
    start, every test using it fails with the reason: none is skipped."""
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


_databases = itertools.count()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database on the session's server; its pool in this process is closed
    after the test."""
    url = pg_server.create_database(f"test_{os.getpid()}_{next(_databases)}")
    yield url
    from interviewer import pg

    pg.close(url)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Each storage backend in turn, as the `database_url` setting: None (files and SQLite
    in the data folder, the default), then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def stored(database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings the CLI loads, on each storage backend in turn: the data folder's files
    (no database_url, the default), then a fresh PostgreSQL database given as
    INTERVIEWER_DATABASE_URL, as a user would."""
    from interviewer.config import load_settings

    if database_url:
        monkeypatch.setenv("INTERVIEWER_DATABASE_URL", database_url)
    settings = load_settings()
    assert settings.database_url == database_url
    return settings
