"""The grade cache on both backends: SQLite in the data folder and a PostgreSQL table."""

from __future__ import annotations

import asyncio
from pathlib import Path

from interviewer.bank.loader import load_bank
from interviewer.batch.cache import GradeCache, open_grade_cache
from interviewer.batch.pgcache import PgGradeCache
from interviewer.batch.resolve import Resolver
from interviewer.batch.runner import plan, run
from interviewer.config import load_settings
from interviewer.judge import offline_judge
from interviewer.judge.schema import Grade, Verdict
from tests.batch.test_runner import fake_grade, rows_for


def test_get_put_and_a_rerun_skips_what_was_graded(
    small_bank: Path, tmp_path: Path, database_url: str | None
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", database_url=database_url)
    cache = open_grade_cache(settings)
    assert isinstance(cache, PgGradeCache if database_url else GradeCache)
    assert cache.get("nothing") is None
    grade = Grade(verdicts=[Verdict(key_point="k", verdict="partial")], score=40, judge="x")
    cache.put("k1", grade)
    cache.put("k1", grade.model_copy(update={"score": 41.0}))  # the last write wins
    assert cache.get("k1") == grade.model_copy(update={"score": 41.0})

    jobs, _ = plan(rows_for(6), Resolver(load_bank(small_bank), offline_judge().encoder), "fake")
    first: list[str] = []
    asyncio.run(run(jobs[:4], fake_grade({}, first)[0], cache=cache, concurrency=2))
    cache.close()
    if database_url:  # as a new process: a new pool
        from interviewer import pg

        pg.close(database_url)
    again = open_grade_cache(settings)
    second: list[str] = []
    results = asyncio.run(run(jobs, fake_grade({}, second)[0], cache=again, concurrency=2))
    assert len(first) == 4
    assert sorted(second) == sorted(j.answer for j in jobs[4:])
    assert [results[i].cached for i in range(6)] == [True] * 4 + [False] * 2
    on_disk = (tmp_path / "data" / "grade-cache.sqlite").exists()
    assert on_disk == (database_url is None)
