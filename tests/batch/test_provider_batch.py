"""Finding a batch again by its submission id (`find`), for both providers, against the
loopback batch server: newest first, page by page, stopping at the batches made before
the submission was recorded."""

from __future__ import annotations

import time
from typing import Any

import pytest

from interviewer.batch import provider_batch
from interviewer.batch.provider_batch import CLOCK_SKEW, AnthropicBatch, OpenAIBatch, batch_api
from tests.batch.test_batch_api import anthropic_llm, openai_llm
from tests.support.batch_server import BatchServer, BatchState


def requests_for(api: OpenAIBatch | AnthropicBatch, n: int, start: int = 0) -> list[dict[str, Any]]:
    schema = {"type": "object", "properties": {"verdicts": {"required": []}}}
    return [api.request(f"{i:064x}", "system", "user", schema) for i in range(start, start + n)]


def list_calls(state: BatchState, path: str) -> int:
    return sum(1 for c in state.calls if c == f"GET {path}")


async def test_openai_finds_the_batch_by_its_metadata_across_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provider_batch, "LIST_PAGE", 2)
    state = BatchState(duration=600.0)
    with BatchServer(state) as srv:
        llm = openai_llm(srv.url)
        api = batch_api(llm.provider)
        assert isinstance(api, OpenAIBatch)
        since = time.time()
        ids = [await api.submit(requests_for(api, 3, 10 * n), f"sub{n:013d}") for n in range(5)]
        # The oldest is on the third page (2 a page, newest first).
        found = await api.find("sub0000000000000", since, 3, set())
        assert found is not None and found.job_id == ids[0]
        assert found.how == "its metadata interviewer_submission=sub0000000000000"
        assert list_calls(state, "/v1/batches") == 3
        # A job recorded already is not taken again; an unknown submission is not found.
        assert await api.find("sub0000000000000", since, 3, {ids[0]}) is None
        assert await api.find("sub9999999999999", since, 3, set()) is None
        # Batches made before the record (beyond the clock skew) end the listing.
        before = list_calls(state, "/v1/batches")
        later = time.time() + CLOCK_SKEW + 60
        assert await api.find("sub0000000000000", later, 3, set()) is None
        assert list_calls(state, "/v1/batches") == before + 1, "stopped at the first page"
        await llm.aclose()


async def test_anthropic_finds_an_ended_batch_by_its_custom_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provider_batch, "LIST_PAGE", 1)
    state = BatchState(duration=0.0)  # ended at once: the results can be read
    with BatchServer(state) as srv:
        llm = anthropic_llm(srv.url)
        api = batch_api(llm.provider)
        assert isinstance(api, AnthropicBatch)
        since = time.time()
        mine = await api.submit(requests_for(api, 4), "aaaaaaaaaaaaaaaa")
        await api.submit(requests_for(api, 4, 100), "bbbbbbbbbbbbbbbb")  # same size, newer
        found = await api.find("aaaaaaaaaaaaaaaa", since, 4, set())
        assert found is not None and found.job_id == mine
        assert found.how == "its custom_ids carry aaaaaaaaaaaaaaaa"
        # Same size and time, another submission's custom_ids: not taken.
        assert await api.find("cccccccccccccccc", since, 4, set()) is None
        assert await api.find("aaaaaaaaaaaaaaaa", since, 5, set()) is None  # another size
        await llm.aclose()
    # Each custom_id carries the submission id, and maps back to its key.
    assert all(len(c) == 60 for c in state.submitted)
    assert [provider_batch.key_of(c) for c in state.submitted[:4]] == [
        f"{i:064x}" for i in range(4)
    ]


async def test_anthropic_takes_a_running_batch_by_its_time_and_size() -> None:
    state = BatchState(duration=600.0)  # running: its requests cannot be read yet
    with BatchServer(state) as srv:
        llm = anthropic_llm(srv.url)
        api = batch_api(llm.provider)
        assert isinstance(api, AnthropicBatch)
        made = [
            await api.submit(requests_for(api, size, 10 * n), f"{n:016d}")
            for n, size in enumerate((2, 2, 2, 3))
        ]
        since = time.time()
        # Made before the record (beyond the skew), the first and second after it, and one
        # of another size.
        for job, at in zip(state.jobs.values(), (-CLOCK_SKEW - 10, 1, 2, 3), strict=True):
            job.created = since + at
        found = await api.find(f"{1:016d}", since, 2, set())
        assert found is not None and found.job_id == made[1], "the first made after it"
        assert found.how.startswith("still running, made after the record with its 2 requests")
        assert await api.find(f"{1:016d}", since, 2, {made[1], made[2]}) is None
        assert await api.find(f"{1:016d}", since, 4, set()) is None
        await llm.aclose()
