"""Grading through the providers' batch APIs, with the real SDKs against a loopback server
(tests/support/batch_server.py): splitting, custom_id mapping, the evidence check, failed
requests graded offline and flagged, and jobs recorded so that a later run collects them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from interviewer.bank.loader import load_bank
from interviewer.batch import batch_api as batch_api_module
from interviewer.batch import provider_batch
from interviewer.batch.batch_api import (
    HELD,
    NOT_SUBMITTED,
    ONCE_ENDED,
    OTHER_RUN,
    OWNER_GRACE,
    UNSETTLED,
    BatchGrader,
    BatchRun,
    Options,
    submitting,
)
from interviewer.batch.cache import JobCache, Submission, open_grade_cache
from interviewer.batch.inputs import Parsed, Row
from interviewer.batch.provider_batch import (
    BatchAPI,
    Found,
    JobStatus,
    Limits,
    Outcome,
    batch_api,
    marked_id,
    request_size,
    split,
)
from interviewer.batch.resolve import Resolver
from interviewer.batch.runner import Job, plan, run
from interviewer.cli.grade_batch import check_no_pending
from interviewer.config import JudgeSpec, load_settings
from interviewer.errors import ConfigError
from interviewer.judge import offline_judge
from interviewer.judge.cascade import CascadeBand
from interviewer.judge.llm import LLMJudge
from interviewer.llm.providers import AnthropicProvider, OpenAIProvider
from tests.support.batch_server import BatchServer, BatchState

GOOD = "LoRA 冻结预训练权重 W0，把更新写成两个低秩矩阵 B 和 A 的乘积，只训练 A 和 B，推理时可以合并回 W0。"
QUOTES = {
    "low-rank-update": "把更新写成两个低秩矩阵 B 和 A 的乘积",
    "frozen-base": "冻结预训练权重 W0",
    "merge-no-latency": "推理时可以合并回 W0",
}
INVENTED = "B 初始化为零，A 随机初始化"
# Half of GOOD: the offline judge gives it about 51 points (GOOD: about 77).
MID = "LoRA 只训练两个低秩矩阵 A 和 B，原来的权重冻结。"


def reply(answer: str, kp_ids: list[str]) -> dict[str, Any]:
    """Quotes copied from the answer; for answers that ask for it, one invented quote."""
    verdicts = {}
    for kp in kp_ids:
        quote = QUOTES.get(kp, "")
        if kp == "init-scaling" and "invent" in answer:
            verdicts[kp] = {"verdict": "covered", "evidence": INVENTED, "reason": "made up"}
        elif quote and quote in answer:
            verdicts[kp] = {"verdict": "covered", "evidence": quote, "reason": "stated"}
        else:
            verdicts[kp] = {"verdict": "missed", "evidence": "", "reason": "absent"}
    return {"verdicts": verdicts, "misconceptions": []}


def ended_run() -> str:
    """The owner ("host:pid") of a run that has ended: a crashed earlier run."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}"


def fates() -> Any:
    """A fate per custom_id (the tests fill `by_key`), "ok" for the others."""
    by_key: dict[str, str] = {}

    def fate(custom_id: str, answer: str) -> str:
        # (Anthropic's custom_ids carry the submission id and the key in base64url)
        return by_key.get(provider_batch.key_of(custom_id), "ok")

    return fate, by_key


def rows_for(n: int, invent: frozenset[int] = frozenset()) -> list[Parsed]:
    return [
        Row(
            id=f"r{i}",
            line=i + 1,
            question_id="lora-principle",
            answer=f"{GOOD}{' invent' if i in invent else ''} #{i}",
        )
        for i in range(n)
    ]


def openai_llm(url: str) -> LLMJudge:
    settings = load_settings(openai_base_url=f"{url}/v1", timeout=5.0)
    provider = OpenAIProvider(JudgeSpec.parse("compatible:scripted"), settings)
    return LLMJudge(provider=provider, offline=offline_judge(), max_retries=3, retry_wait=0.02)


def anthropic_llm(url: str) -> LLMJudge:
    settings = load_settings(anthropic_api_key="sk-ant-test-0000", anthropic_base_url=url)
    provider = AnthropicProvider(JudgeSpec.parse("anthropic:claude-test"), settings, url)
    return LLMJudge(provider=provider, offline=offline_judge(), max_retries=3, retry_wait=0.02)


def planned(small_bank: Path, rows: list[Parsed], llm: LLMJudge) -> list[Job]:
    bank = load_bank(small_bank)
    offline_judge().learn_terms(list(bank.rubrics.values()))
    jobs, errors = plan(rows, Resolver(bank, offline_judge().encoder), llm)
    assert not errors
    return jobs


async def grade(
    llm: LLMJudge,
    jobs: list[Job],
    cache: JobCache,
    limits: Limits | None = None,
    stop: asyncio.Event | None = None,
    **options: Any,
) -> tuple[BatchRun, list[str]]:
    said: list[str] = []
    api = batch_api(llm.provider, limits)
    api.retry_wait = 0.02  # type: ignore[attr-defined]
    grader = BatchGrader(
        llm,
        api,
        cache,
        Options(**{"poll": 0.05, "max_poll": 0.2, **options}),
        stop=stop or asyncio.Event(),
        say=said.append,
    )
    try:
        return await grader.run(jobs), said
    finally:
        await llm.aclose()


def key_of(jobs: list[Job], i: int) -> str:
    return jobs[i].key


@pytest.fixture
def cache(tmp_path: Path, database_url: str | None) -> Iterator[JobCache]:
    """The grade cache, with its batch records, on each backend in turn: SQLite in the data
    folder, then a fresh PostgreSQL database."""
    made = open_grade_cache(load_settings(data_dir=tmp_path / "data", database_url=database_url))
    yield made
    made.close()


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_split_submit_poll_and_map_back_with_failures_flagged(
    small_bank: Path, cache: JobCache, provider: str
) -> None:
    fate, by_key = fates()
    state = BatchState(duration=0.3, fate=fate, reply=reply, faults={"GET /v1/batches": [500]})
    state.faults["GET /v1/messages/batches"] = [503, 429]
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url) if provider == "openai" else anthropic_llm(srv.url)
        rows = [
            *rows_for(40, invent=frozenset({5})),
            Row(id="dup", line=41, question_id="lora-principle", answer=f"{GOOD} #3"),
        ]
        jobs = planned(small_bank, rows, llm)
        for i, what in {7: "error", 11: "malformed", 23: "expired"}.items():
            by_key[key_of(jobs, i)] = what
        run, said = await grade(llm, jobs, cache, Limits(requests=15, bytes=10**8))
    results = run.results
    # 40 distinct answers (the duplicate of row 3 shares its request) in batches of 15.
    assert len(state.submitted) == 40 == len(set(state.submitted))
    assert [len(j.requests) for j in state.jobs.values()] == [15, 15, 10]
    assert len(run.submitted) == 3 and not run.running and not run.resumed
    assert any("done" in line and "succeeded" in line for line in said), said
    good = results[0]
    assert good.error is None and good.judge == llm.spec and "judge_fallback" not in good.flags
    assert {v.key_point: v.verdict for v in good.verdicts if v.verdict != "missed"} == {
        kp: "covered" for kp in QUOTES
    }
    assert results[40].score == results[3].score and results[40].verdicts == results[3].verdicts
    # The invented quote was checked against the answer and dropped.
    assert "unverified_evidence" in results[5].flags
    assert next(v for v in results[5].verdicts if v.key_point == "init-scaling").verdict == "missed"
    assert results[5].score == good.score
    # Failed requests: graded offline, flagged, never cached; the rest cached.
    fell_back = sorted(i for i, r in results.items() if "judge_fallback" in r.flags)
    assert fell_back == [7, 11, 23]
    assert all(str(results[i].judge).startswith("offline (fallback from") for i in fell_back)
    for i in range(40):
        assert (cache.get(key_of(jobs, i)) is None) == (i in fell_back)
    assert cache.jobs_for({j.key for j in jobs}) == [], "collected jobs are forgotten"


async def test_a_cascade_submits_only_the_answers_its_offline_pass_is_unsure_of(
    small_bank: Path, cache: JobCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_api_module, "GUARD_GROUP", 5)  # three groups of 12 answers
    band = CascadeBand(low=40, high=70)  # MID's offline score in it, GOOD's above it
    texts = [f"{text} #{i}" for i, text in enumerate([GOOD, MID, MID, GOOD, MID, GOOD] * 2)]
    rows: list[Parsed] = [
        Row(id=f"r{i}", line=i + 1, question_id="lora-principle", answer=text)
        for i, text in enumerate(texts)
    ]
    state = BatchState(duration=0.3, reply=reply)
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        llm.cascade = band
        jobs = planned(small_bank, rows, llm)
        bank = load_bank(small_bank)
        q, r = bank.question("lora-principle"), bank.rubric("lora-principle")
        offline = [offline_judge().grade(q, r, text) for text in texts]
        unsure = [i for i, g in enumerate(offline) if band.uncertain(g.score)]
        assert unsure == [i for i, text in enumerate(texts) if MID in text]
        done, said = await grade(llm, jobs, cache)

        # The live cascade over the same rows and cache: every grade served, nothing asked.
        asked = state.calls.count("POST /v1/chat/completions")
        live = openai_llm(srv.url)
        live.cascade = band
        again = await run(jobs, live.agrade, cache=cache, concurrency=4)
        await live.aclose()
        assert state.calls.count("POST /v1/chat/completions") == asked

    # Only the uncertain answers reached the batch API, each once.
    assert sorted(state.submitted) == sorted(jobs[i].key for i in unsure)
    assert [len(j.requests) for j in state.jobs.values()] == [len(unsure)]
    assert (
        "cascade: 6 of 12 answers kept offline (50%), 6 uncertain (band [40, 70)); "
        "6 requests submitted to the batch API"
    ) in said, said
    assert [line for line in said if "graded offline first" in line] == [
        "cascade: 5/12 answers graded offline first, 2 kept",
        "cascade: 10/12 answers graded offline first, 5 kept",
        "cascade: 12/12 answers graded offline first, 6 kept",
    ]
    for i, result in done.results.items():
        assert result.error is None and "judge_fallback" not in result.flags
        if i in unsure:
            assert result.judge == "cascade:compatible:scripted"
        else:  # the offline judge's grade, cached under the row's key
            assert result.judge == "offline (cascade, compatible:scripted not asked)"
            assert result.score == offline[i].score
            assert [v.verdict for v in result.verdicts] == [v.verdict for v in offline[i].verdicts]
            kept = cache.get(jobs[i].key)
            assert kept is not None and kept.score == offline[i].score
        assert again[i].cached and again[i].score == result.score
        assert again[i].judge == result.judge


async def test_a_job_that_expires_falls_back_for_its_unanswered_rows(
    small_bank: Path, cache: JobCache
) -> None:
    state = BatchState(duration=0.2, reply=reply, expire_jobs={2})
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        jobs = planned(small_bank, rows_for(20), llm)
        run, _ = await grade(llm, jobs, cache, batch_size=10)
    flagged = [i for i, r in run.results.items() if "judge_fallback" in r.flags]
    assert flagged == list(range(15, 20)), "the second job expired half-way"
    assert all(cache.get(jobs[i].key) is None for i in flagged)
    assert all(cache.get(jobs[i].key) is not None for i in range(15))
    assert [r.error for r in run.results.values()] == [None] * 20


async def test_a_run_that_stops_waiting_leaves_jobs_a_later_run_collects(
    small_bank: Path, cache: JobCache
) -> None:
    state = BatchState(duration=1.0, reply=reply)
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        jobs = planned(small_bank, rows_for(12), llm)
        first, _ = await grade(llm, jobs, cache, batch_size=5, wait=0.0)
        assert len(first.submitted) == 3 and len(first.running) == 3
        assert all(
            "--resume" in str(r.error) and "batch_000" in str(r.error)
            for r in first.results.values()
        )
        assert len(cache.jobs_for({j.key for j in jobs})) == 3
        # A second run (a new judge, as after a crash) submits nothing and collects.
        llm = openai_llm(srv.url)
        again, said = await grade(llm, planned(small_bank, rows_for(12), llm), cache)
    assert again.resumed == first.submitted and not again.submitted
    assert any(line.startswith("resuming 3 batch job(s)") for line in said)
    assert len(state.submitted) == 12, "nothing was submitted twice"
    assert all(r.error is None and r.score is not None for r in again.results.values())
    assert cache.jobs_for({j.key for j in jobs}) == []


async def test_stop_before_submitting_marks_rows_not_submitted(
    small_bank: Path, cache: JobCache
) -> None:
    stop = asyncio.Event()
    stop.set()
    with BatchServer(BatchState(reply=reply)) as srv:
        llm = openai_llm(srv.url)
        run, _ = await grade(llm, planned(small_bank, rows_for(3), llm), cache, stop=stop)
    assert [r.error for r in run.results.values()] == [
        f"line {i}: {NOT_SUBMITTED}" for i in (1, 2, 3)
    ]


async def test_a_job_the_provider_lost_is_graded_offline(small_bank: Path, cache: JobCache) -> None:
    with BatchServer(BatchState(duration=5.0, reply=reply)) as srv:
        llm = openai_llm(srv.url)
        jobs = planned(small_bank, rows_for(4), llm)
        await grade(llm, jobs, cache, wait=0.0)
        srv.state.jobs.clear()  # the provider forgot it: 404 on retrieve
        llm = openai_llm(srv.url)
        run, said = await grade(llm, planned(small_bank, rows_for(4), llm), cache)
    assert all("judge_fallback" in r.flags for r in run.results.values())
    assert any("no longer has batch batch_0001 (HTTP 404)" in line for line in said)
    assert cache.jobs_for({j.key for j in jobs}) == []


async def test_ctrl_c_ends_a_status_check_that_hangs(small_bank: Path, cache: JobCache) -> None:
    state = BatchState(duration=600.0, reply=reply, delays={"GET /v1/batches": 30.0})
    stop = asyncio.Event()
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        jobs = planned(small_bank, rows_for(3), llm)
        asyncio.get_running_loop().call_later(1.0, stop.set)
        started = time.monotonic()
        run, _ = await grade(llm, jobs, cache, stop=stop)
        took = time.monotonic() - started
    assert took < 10, f"the hung status check held the run for {took:.1f}s"
    assert [s.job_id for s in run.running] == ["batch_0001"]
    assert all("in batch batch_0001" in str(r.error) for r in run.results.values())


def test_split_keeps_each_batch_within_the_request_and_byte_limits() -> None:
    requests = [{"custom_id": f"k{i}", "body": "x" * (100 + i % 7)} for i in range(50)]
    by_count = split(requests, Limits(requests=8, bytes=10**6))
    assert [len(c) for c in by_count] == [8] * 6 + [2]
    budget = 2048  # after the 1,024 bytes kept for the envelope: about 15 requests
    by_bytes = split(requests, Limits(requests=1000, bytes=budget + 1024))
    assert [r for c in by_bytes for r in c] == requests
    sizes = [sum(request_size(r) for r in c) for c in by_bytes]
    assert len(by_bytes) > 3 and all(s <= budget for s in sizes)
    # Each batch is as full as it can be: the next request would not have fitted.
    for chunk, size, after in zip(by_bytes, sizes, by_bytes[1:], strict=False):
        assert size + request_size(after[0]) > budget, (len(chunk), size)
    with pytest.raises(ValueError, match="k0 alone"):
        split(requests[:1], Limits(requests=10, bytes=1024 + 10))


def test_custom_ids_fit_both_providers() -> None:
    anthropic_id = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # Anthropic's documented pattern
    for n in range(200):
        key = hashlib.sha256(str(n).encode()).hexdigest()
        assert len(key) == 64 and anthropic_id.fullmatch(key)  # OpenAI's: the key itself
        marked = marked_id("0123456789abcdef", key)  # Anthropic's: the submission id too
        assert anthropic_id.fullmatch(marked) and len(marked) == 60, marked
        assert marked.startswith("0123456789abcdef_") and provider_batch.key_of(marked) == key
    assert provider_batch.key_of(key) == key  # a batch submitted before submission ids


async def test_a_batch_request_is_the_request_the_live_judge_sends(small_bank: Path) -> None:
    """The same body (prompt, fenced answer, schema, sampling) for both providers."""
    from tests.judge.test_llm_faults import good_reply
    from tests.support.scripted_http import ScriptedServer, Step, chat_reply, messages_reply

    bank = load_bank(small_bank)
    q, r = bank.question("lora-principle"), bank.rubric("lora-principle")
    offline_judge().learn_terms([r])
    answer = f"{GOOD} #0"
    for make, step in (
        (openai_llm, Step(body=chat_reply(json.dumps(good_reply(r))))),
        (anthropic_llm, Step(body=messages_reply(good_reply(r)))),
    ):
        with ScriptedServer([step]) as srv:
            llm = make(srv.url)
            await llm.agrade(q, r, answer)
            live = srv.script.requests[0]["body"]
            report = await llm.guard(q, r, answer)
            sent = llm.request_for(q, r, answer, report)
            line = batch_api(llm.provider).request("k" * 64, sent.system, sent.user, sent.schema)
            await llm.aclose()
        assert line["custom_id"] == "k" * 64
        if make is openai_llm:
            assert line["url"] == "/v1/chat/completions" and line["method"] == "POST"
            assert line["body"] == live
        else:
            assert line["params"] == live


def test_openai_specs_get_the_openai_batch_api() -> None:
    settings = load_settings(openai_api_key="sk-test-0000")
    provider = OpenAIProvider(JudgeSpec.parse("openai:gpt-4o-mini"), settings)
    api = batch_api(provider)
    assert api.limits == Limits(requests=50_000, bytes=200 * 1024 * 1024)
    line = api.request("k", "s", "u", {"type": "object"})
    assert line["body"]["model"] == "gpt-4o-mini"
    assert str(provider.client.base_url).rstrip("/") == "https://api.openai.com/v1"
    anthropic = AnthropicProvider(
        JudgeSpec.parse("anthropic:claude-test"), load_settings(anthropic_api_key="sk-ant-x")
    )
    assert batch_api(anthropic).limits == Limits(requests=100_000, bytes=256 * 1024 * 1024)


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in the grader handles it."""


class CrashingAPI:
    """The provider's batch API, with the process dying just before `submit` asks the
    provider ("before") or just after the provider made the batch ("after")."""

    def __init__(self, api: BatchAPI, when: str) -> None:
        self.api, self.when = api, when
        self.limits = api.limits

    def request(self, key: str, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]:
        return self.api.request(key, system, user, schema)

    async def submit(self, requests: list[dict[str, Any]], submission: str) -> str:
        if self.when == "before":
            raise Crash
        await self.api.submit(requests, submission)
        raise Crash  # the batch id never reaches the grade cache

    async def find(self, submission: str, since: float, count: int, skip: set[str]) -> Found | None:
        return await self.api.find(submission, since, count, skip)

    async def status(self, job_id: str) -> JobStatus:
        return await self.api.status(job_id)

    def results(self, job_id: str, keys: list[str]) -> AsyncIterator[Outcome]:
        return self.api.results(job_id, keys)


@pytest.mark.parametrize("when", ["after", "before"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_crash_between_submit_and_record_pays_once(
    small_bank: Path, cache: JobCache, provider: str, when: str
) -> None:
    make = openai_llm if provider == "openai" else anthropic_llm
    state = BatchState(duration=0.3, reply=reply)
    with BatchServer(state) as srv:
        llm = make(srv.url)
        jobs = planned(small_bank, rows_for(6), llm)
        keys = {j.key for j in jobs}
        crashing = CrashingAPI(batch_api(llm.provider), when)
        grader = BatchGrader(
            llm, crashing, cache, Options(poll=0.05), stop=asyncio.Event(), say=print
        )
        with pytest.raises(Crash):
            await grader.run(jobs)
        await llm.aclose()
        [pending] = cache.submissions()
        assert set(pending.keys) == keys and cache.jobs_for(keys) == []
        assert len(state.jobs) == (1 if when == "after" else 0)
        # A live run would pay again for rows the provider may have: it is refused.
        with pytest.raises(ConfigError, match="left pending"):
            check_no_pending(cache, jobs)

        llm = make(srv.url)
        run, said = await grade(llm, planned(small_bank, rows_for(6), llm), cache)
    made = list(state.jobs)
    assert len(made) == 1, "one batch at the provider, whatever the crash"
    sub = pending.submission_id
    if when == "after":
        assert f"adopted batch {made[0]} (6 requests) of submission {sub}" in "\n".join(said)
        assert run.resumed == made and not run.submitted
    else:
        assert f"dropped batch submission {sub}" in "\n".join(said)
        assert run.submitted == made and not run.resumed
    # Every key went to the provider once, and every row was graded by the model.
    assert sorted(provider_batch.key_of(c) for c in state.submitted) == sorted(keys)
    assert all(r.error is None and r.judge == llm.spec for r in run.results.values())
    assert all(cache.get(k) is not None for k in keys)
    assert cache.submissions() == [] and cache.jobs_for(keys) == []


async def test_a_submission_is_kept_when_listing_fails_and_its_rows_wait(
    small_bank: Path, cache: JobCache
) -> None:
    state = BatchState(duration=0.3, reply=reply)
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        jobs = planned(small_bank, rows_for(3), llm)
        cache.record_submission(
            "feedfacefeedface", llm.spec, llm.provider.endpoint, [jobs[0].key], ended_run()
        )
        state.faults["LIST /v1/batches"] = [400]  # refused: not retried
        run, said = await grade(llm, jobs, cache)
    assert any("listing the provider's batches failed" in line for line in said), said
    assert run.results[0].error == f"line 1: {UNSETTLED}"
    assert [r.error for r in list(run.results.values())[1:]] == [None, None]
    assert len(state.submitted) == 2, "the row of the unsettled submission was not sent"
    assert [s.submission_id for s in cache.submissions()] == ["feedfacefeedface"]


async def test_a_submission_of_other_rows_is_left_to_its_own_run(
    small_bank: Path, cache: JobCache
) -> None:
    """Runs sharing one cache (shards of a file on several machines, one PostgreSQL): a
    pending submission of rows this run does not grade may be another run's, still between
    its create and its record, so it is neither adopted nor dropped, nor even looked up."""
    state = BatchState(duration=0.3, reply=reply)
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        jobs = planned(small_bank, rows_for(6), llm)
        theirs = [j.key for j in jobs[3:]]
        cache.record_submission(
            "0123456789abcdef", llm.spec, llm.provider.endpoint, theirs, ended_run()
        )
        run, said = await grade(llm, jobs[:3], cache)
    assert "GET /v1/batches" not in state.calls, "the provider was asked for its batches"
    assert not any("batch submission 0123456789abcdef" in line for line in said), said
    assert [s.submission_id for s in cache.submissions()] == ["0123456789abcdef"]
    assert sorted(provider_batch.key_of(c) for c in state.submitted) == sorted(
        j.key for j in jobs[:3]
    )
    assert all(r.error is None and r.judge == llm.spec for r in run.results.values())


async def test_a_submission_a_live_run_is_still_making_is_left_to_it(
    small_bank: Path, cache: JobCache
) -> None:
    """Two runs over the same rows (a --resume started while the first run still waits for
    the provider's create): the second must neither drop the first run's submission and
    pay again, nor adopt it, nor submit the other rows, which the first run would submit
    as well. Once the first run has ended, its submission is settled."""
    state = BatchState(duration=0.3, reply=reply)
    first = subprocess.Popen(["sleep", "60"])  # the run still submitting, on this machine
    try:
        with BatchServer(state) as srv:
            llm = openai_llm(srv.url)
            jobs = planned(small_bank, rows_for(3), llm)
            owner = f"{socket.gethostname()}:{first.pid}"
            keys = [jobs[0].key]
            cache.record_submission(
                "facade0facade000", llm.spec, llm.provider.endpoint, keys, owner
            )
            run, said = await grade(llm, jobs, cache)
            assert "GET /v1/batches" not in state.calls, "the provider was asked for its batches"
            assert any(
                f"still being submitted by process {first.pid} on this machine (started" in line
                for line in said
            ), said
            assert any("2 request(s) not submitted: another run" in line for line in said)
            held = HELD.format(who=f"process {first.pid} on this machine")
            errors = [r.error for r in run.results.values()]
            assert errors == [f"line {i}: {held}" for i in (1, 2, 3)], errors
            assert all(str(e).endswith(ONCE_ENDED) for e in errors)
            assert state.submitted == [], "rows the other run may submit were submitted"
            assert [s.submission_id for s in cache.submissions()] == ["facade0facade000"]

            first.kill()
            first.wait()
            llm = openai_llm(srv.url)
            again, said = await grade(llm, planned(small_bank, rows_for(3), llm), cache)
    finally:
        first.kill()
        first.wait()
    assert any(line.startswith("dropped batch submission facade0facade000") for line in said)
    assert all(r.error is None and r.judge == llm.spec for r in again.results.values())
    assert sorted(provider_batch.key_of(c) for c in state.submitted) == sorted(j.key for j in jobs)
    assert cache.submissions() == []


def test_a_submission_is_left_to_a_live_owner_only_within_the_grace() -> None:
    now = 1_000_000.0

    def sub(owner: str | None, age: float) -> Submission:
        return Submission("s", "openai:m", "https://x/v1", now - age, owner, ("k",))

    elsewhere = "build-7.example:4242"
    assert socket.gethostname() != "build-7.example"
    assert submitting(sub(elsewhere, 30.0), now) == f"the run {elsewhere}"
    assert submitting(sub(elsewhere, OWNER_GRACE + 1), now) is None
    assert submitting(sub(None, 1.0), now) is None  # recorded by an older version
    assert submitting(sub(ended_run(), 1.0), now) is None
    this_process = f"{socket.gethostname()}:{os.getpid()}"
    assert submitting(sub(this_process, 1.0), now) is None
    # A live process of this machine, past the grace: its id may be another process's now.
    with subprocess.Popen(["sleep", "60"]) as live:
        try:
            here = f"{socket.gethostname()}:{live.pid}"
            assert submitting(sub(here, 30.0), now) is not None
            assert submitting(sub(here, OWNER_GRACE + 1), now) is None
        finally:
            live.kill()


async def test_a_batch_adopted_by_another_run_before_its_record_is_collected_by_both(
    small_bank: Path, tmp_path: Path, database_url: str | None
) -> None:
    """A --resume on another machine adopts a batch in the moment between its create and
    its record (the provider made it; its id is not back yet): the run that made it must
    not crash on the job already recorded, and every row is paid for once."""
    settings = load_settings(data_dir=tmp_path / "data", database_url=database_url)
    made, other = open_grade_cache(settings), open_grade_cache(settings)
    # (the batch runs 3 s: long enough that neither run has collected it and forgotten the
    # job before the other records it)
    state = BatchState(duration=3.0, reply=reply, holds={"POST /v1/batches": 1.5})
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        jobs = planned(small_bank, rows_for(6), llm)

        async def resumed_meanwhile() -> tuple[BatchRun, list[str]]:
            await asyncio.sleep(0.7)  # the batch is made, its reply held back
            return await grade(openai_llm(srv.url), jobs, other)

        (first, said), (second, said_too) = await asyncio.gather(
            grade(llm, jobs, made), resumed_meanwhile()
        )
    made.close()
    other.close()
    # Which run meets the other's record depends on the server's threads: either way, one.
    other_run = [line for line in said + said_too if "was recorded by another run" in line]
    assert other_run == [OTHER_RUN.format(job_id="batch_0001")], (said, said_too)
    assert sorted(provider_batch.key_of(c) for c in state.submitted) == sorted(j.key for j in jobs)
    for done in (first, second):
        assert all(r.error is None and r.judge == llm.spec for r in done.results.values())


@pytest.mark.parametrize(("replies", "kept"), [([400], False), ([503] * 5, True)])
async def test_a_failed_submit_keeps_its_submission_only_if_a_batch_may_exist(
    small_bank: Path, cache: JobCache, replies: list[int], kept: bool
) -> None:
    """A 4xx is a refusal (no batch); a 5xx after the retries may hide a batch the provider
    made: its submission stays, for the next run to adopt or drop. (A 400 is not retried;
    a 503 is, 4 times.)"""
    # (a copy: the server consumes it, and the test runs once per backend)
    state = BatchState(duration=0.3, reply=reply, faults={"POST /v1/batches": list(replies)})
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        run, said = await grade(llm, planned(small_bank, rows_for(3), llm), cache)
        assert any("submitting a batch failed" in line for line in said), said
        assert all("judge_fallback" in r.flags for r in run.results.values())
        assert len(cache.submissions()) == (1 if kept else 0)
        assert not state.jobs and not state.faults["POST /v1/batches"]
        llm = openai_llm(srv.url)
        again, said = await grade(llm, planned(small_bank, rows_for(3), llm), cache)
    assert any(line.startswith("dropped batch submission") for line in said) == kept
    assert all(r.error is None and r.judge == llm.spec for r in again.results.values())
    assert len(state.jobs) == 1 and cache.submissions() == []


async def test_a_running_batch_recorded_as_a_job_is_never_adopted(
    small_bank: Path, cache: JobCache
) -> None:
    """Anthropic: a running batch is matched by its time and size, so a batch of the same
    size recorded by another run (another submission) must not be taken."""
    state = BatchState(duration=600.0, reply=reply)
    with BatchServer(state) as srv:
        llm = anthropic_llm(srv.url)
        jobs = planned(small_bank, rows_for(6), llm)
        # A submission of rows 3-5 that never reached the provider...
        rest = [j.key for j in jobs[3:]]
        cache.record_submission(
            "5e5e5e5e5e5e5e5e", llm.spec, llm.provider.endpoint, rest, ended_run()
        )
        # ... and, after it, a batch of rows 0-2 submitted and recorded by another run.
        await batch_api(llm.provider).submit(
            [batch_api(llm.provider).request(j.key, "s", "u", {}) for j in jobs[:3]],
            "0f0f0f0f0f0f0f0f",
        )
        cache.record_job(
            "msgbatch_0001", llm.spec, llm.provider.endpoint, [j.key for j in jobs[:3]]
        )
        run, said = await grade(llm, jobs, cache, wait=0.0)
    assert any(line.startswith("dropped batch submission 5e5e5e5e5e5e5e5e") for line in said)
    assert not any("adopted" in line for line in said), said
    assert run.resumed == ["msgbatch_0001"] and run.submitted == ["msgbatch_0002"]
    assert [len(j.requests) for j in state.jobs.values()] == [3, 3]
