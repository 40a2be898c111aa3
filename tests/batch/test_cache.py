"""The grade cache's records of provider batches (SQLite): a pending submission, replaced
by its job in one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from interviewer.batch.cache import GradeCache


def test_a_submission_is_replaced_by_its_job_or_kept_whole(tmp_path: Path) -> None:
    cache = GradeCache(tmp_path / "cache.sqlite")
    cache.record_submission("s1", "openai:m", "https://x/v1", ["k1", "k2"])
    cache.record_submission("s2", "openai:m", "https://x/v1", ["k3"])
    [s1, s2] = cache.submissions()
    assert (s1.submission_id, s1.keys, s2.keys) == ("s1", ("k1", "k2"), ("k3",))
    assert s1.judge == "openai:m" and s1.endpoint == "https://x/v1" and s1.created_at > 0

    cache.record_job("batch_1", "openai:m", "https://x/v1", ["k1", "k2"], "s1")
    assert [s.submission_id for s in cache.submissions()] == ["s2"]
    [job] = cache.jobs_for({"k1"})
    assert (job.job_id, job.keys) == ("batch_1", ("k1", "k2"))
    assert cache.job_ids() == {"batch_1"}

    # The job cannot be recorded (its id is taken): the submission is not lost either.
    with pytest.raises(sqlite3.IntegrityError):
        cache.record_job("batch_1", "openai:m", "https://x/v1", ["k3"], "s2")
    assert [s.submission_id for s in cache.submissions()] == ["s2"]
    assert cache.jobs_for({"k3"}) == []

    cache.close()
    again = GradeCache(tmp_path / "cache.sqlite")  # a new process: the records are kept
    assert [s.keys for s in again.submissions()] == [("k3",)]
    again.drop_submission("s2")
    assert again.submissions() == [] and [j.job_id for j in again.jobs_for({"k2"})] == ["batch_1"]
