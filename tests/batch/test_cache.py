"""The grade cache's records of provider batches, on both backends (SQLite in the data
folder, PostgreSQL tables): a pending submission, replaced by its job in one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from interviewer.batch.cache import open_grade_cache
from interviewer.config import load_settings


def test_a_submission_is_replaced_by_its_job_or_kept_whole(
    tmp_path: Path, database_url: str | None
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", database_url=database_url)
    cache = open_grade_cache(settings)
    cache.record_submission("s1", "openai:m", "https://x/v1", ["k1", "k2"], "host-a:101")
    cache.record_submission("s2", "openai:m", "https://x/v1", ["k3"], "host-b:202")
    [s1, s2] = cache.submissions()
    assert (s1.submission_id, s1.keys, s2.keys) == ("s1", ("k1", "k2"), ("k3",))
    assert (s1.owner, s2.owner) == ("host-a:101", "host-b:202")
    assert s1.judge == "openai:m" and s1.endpoint == "https://x/v1" and s1.created_at > 0

    cache.record_job("batch_1", "openai:m", "https://x/v1", ["k1", "k2"], "s1")
    assert [s.submission_id for s in cache.submissions()] == ["s2"]
    [job] = cache.jobs_for({"k1"})
    assert (job.job_id, job.keys) == ("batch_1", ("k1", "k2"))
    assert cache.job_ids() == {"batch_1"}

    # The job cannot be recorded (its id is taken): the submission is not lost either.
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        cache.record_job("batch_1", "openai:m", "https://x/v1", ["k3"], "s2")
    assert [s.submission_id for s in cache.submissions()] == ["s2"]
    assert cache.jobs_for({"k3"}) == []

    cache.close()
    if database_url:  # as a new process: a new pool
        from interviewer import pg

        pg.close(database_url)
    again = open_grade_cache(settings)  # a new process: the records are kept
    assert [s.keys for s in again.submissions()] == [("k3",)]
    again.drop_submission("s2")
    assert again.submissions() == [] and [j.job_id for j in again.jobs_for({"k2"})] == ["batch_1"]

    # Collected keys are forgotten, and the job with its last one.
    again.drop_keys("batch_1", ["k1"])
    assert [j.keys for j in again.jobs_for({"k2"})] == [("k2",)] and again.jobs_for({"k1"}) == []
    again.drop_keys("batch_1", ["k2"])
    assert again.job_ids() == set() and again.jobs_for({"k1", "k2"}) == []
    on_disk = (tmp_path / "data" / "grade-cache.sqlite").exists()
    assert on_disk == (database_url is None)


def test_jobs_are_found_by_any_of_their_keys_among_many(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live run asks with every key of its file: each job holding one of them comes back
    whole, once, oldest first, and no other (PostgreSQL looks the keys up a chunk at a
    time: 3 keys a query here)."""
    from interviewer.batch import pgcache

    monkeypatch.setattr(pgcache, "KEY_CHUNK", 3)
    cache = open_grade_cache(load_settings(data_dir=tmp_path / "data", database_url=database_url))
    for n in range(4):
        cache.record_job(f"batch_{n}", "openai:m", "https://x/v1", [f"k{n}a", f"k{n}b"])
    asked = {"k0b", "k2a", "k2b", *(f"absent{i}" for i in range(10))}
    found = cache.jobs_for(asked)
    assert [(j.job_id, sorted(j.keys)) for j in found] == [
        ("batch_0", ["k0a", "k0b"]),
        ("batch_2", ["k2a", "k2b"]),
    ]
    assert cache.jobs_for({"absent"}) == [] and cache.jobs_for(set()) == []
    cache.close()


OLD_SUBMISSIONS = (  # the tables before submissions knew their run ({p}: the name prefix)
    "CREATE TABLE {p}submissions (submission_id TEXT PRIMARY KEY, judge TEXT NOT NULL, "
    "endpoint TEXT NOT NULL, created_at {real} NOT NULL)",
    "CREATE TABLE {p}submission_keys (submission_id TEXT NOT NULL "
    "REFERENCES {p}submissions (submission_id), key TEXT NOT NULL, "
    "PRIMARY KEY (submission_id, key))",
    "INSERT INTO {p}submissions VALUES ('s0', 'openai:m', 'https://x/v1', 1.0)",
    "INSERT INTO {p}submission_keys VALUES ('s0', 'k0')",
)


def test_a_cache_from_before_submissions_knew_their_run_is_read_and_extended(
    tmp_path: Path, database_url: str | None
) -> None:
    data = tmp_path / "data"
    if database_url is None:
        data.mkdir()
        old = sqlite3.connect(data / "grade-cache.sqlite")
        for sql in OLD_SUBMISSIONS:
            old.execute(sql.format(p="batch_", real="REAL"))
        old.commit()
        old.close()
    else:
        with psycopg.connect(database_url) as conn:
            for sql in OLD_SUBMISSIONS:
                conn.execute(sql.format(p="grade_batch_", real="double precision"))
    cache = open_grade_cache(load_settings(data_dir=data, database_url=database_url))
    cache.record_submission("s1", "openai:m", "https://x/v1", ["k1"], "host-a:101")
    assert [(s.submission_id, s.owner) for s in cache.submissions()] == [
        ("s0", None),
        ("s1", "host-a:101"),
    ]
    cache.close()
