"""The retry layer and the provider adapters (issue 13 item 11, provider part): Retry-After in
every shape, the json_object fallback only on its own error and per request, clients
closed, specs checked at open, and the shared back-off of the RateGate."""

from __future__ import annotations

import asyncio
import email.utils
import gc
import json
import time
import warnings
from types import SimpleNamespace

import httpx
import openai
import pytest

from interviewer.bank.schema import Question, Rubric
from interviewer.config import JudgeSpec, load_settings
from interviewer.errors import ConfigError
from interviewer.judge.offline import OfflineJudge
from interviewer.llm.providers import OpenAIProvider
from interviewer.llm.retry import MAX_RETRY_AFTER, RateGate, call_with_retries, retry_after
from tests.judge.conftest import STRONG
from tests.judge.test_llm_faults import good_reply, openai_judge
from tests.support.scripted_http import ScriptedServer, Step, chat_reply

SCHEMA = {"type": "object", "properties": {}, "additionalProperties": False}


def with_headers(**headers: str) -> SimpleNamespace:
    return SimpleNamespace(response=SimpleNamespace(headers=httpx.Headers(headers)))


def http_date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "400"}, 0.4),
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "-5"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "1e9"}, MAX_RETRY_AFTER),
        ({"retry-after": "inf"}, MAX_RETRY_AFTER),
        ({"retry-after": "Mon, 99 Foo 2025 25:61:00 GMT"}, None),
        ({"retry-after": http_date(-3600)}, 0.0),
        ({"retry-after": http_date(10**7)}, MAX_RETRY_AFTER),
    ],
)
def test_retry_after_in_every_shape(headers: dict[str, str], expected: float | None) -> None:
    got = retry_after(with_headers(**headers))  # type: ignore[arg-type]
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_retry_after_http_date_in_the_future() -> None:
    got = retry_after(with_headers(**{"retry-after": http_date(10)}))  # type: ignore[arg-type]
    assert got is not None and 8 <= got <= 10


async def test_garbage_retry_after_still_retries(
    lora: tuple[Question, Rubric], judge: OfflineJudge
) -> None:
    q, r = lora
    steps = [
        Step(status=429, body={"error": {"message": "slow"}}, headers={"retry-after": "soon"}),
        Step(body=chat_reply(json.dumps(good_reply(r)))),
    ]
    with ScriptedServer(steps) as srv:
        grade = await openai_judge(srv.url, judge).agrade(q, r, STRONG)
    assert "judge_fallback" not in grade.flags, grade.notes
    assert len(srv.script.requests) == 2


async def test_retry_after_past_the_deadline_is_not_waited_for() -> None:
    """A 429 asking for 30 s with 2 s of deadline left gives up at once."""
    steps = [Step(status=429, body={"error": {"message": "x"}}, headers={"retry-after": "30"})]
    with ScriptedServer(steps) as srv:
        provider = OpenAIProvider(
            JudgeSpec.parse("compatible:m"), load_settings(openai_base_url=f"{srv.url}/v1")
        )
        started = time.monotonic()
        with pytest.raises(openai.RateLimitError):
            await call_with_retries(
                lambda: provider.structured("s", "u", SCHEMA, "n", []),
                max_retries=4,
                deadline=2.0,
            )
        await provider.aclose()
    assert time.monotonic() - started < 1.5
    assert len(srv.script.requests) == 1


async def test_rate_gate_holds_every_caller_back() -> None:
    """One caller's 429 makes the others wait too (README: shared back-off)."""
    gate = RateGate()
    steps = [
        Step(status=429, body={"error": {"message": "x"}}, headers={"retry-after-ms": "600"}),
        Step(body=chat_reply("{}")),
    ]
    with ScriptedServer(steps) as srv:
        provider = OpenAIProvider(
            JudgeSpec.parse("compatible:m"), load_settings(openai_base_url=f"{srv.url}/v1")
        )

        async def call(after: float) -> None:
            await asyncio.sleep(after)
            await call_with_retries(
                lambda: provider.structured("s", "u", SCHEMA, "n", []),
                max_retries=2,
                deadline=10,
                gate=gate,
            )

        await asyncio.gather(call(0), call(0.2))
        await provider.aclose()
    first, *later = srv.script.times
    # The second caller started 0.2 s in, while the gate was shut: it waited for it.
    assert len(later) == 2 and min(later) - first >= 0.55


async def test_json_object_only_for_the_request_that_was_refused() -> None:
    refused = {"error": {"message": "response_format json_schema is not supported"}}
    steps = [Step(status=400, body=refused), Step(body=chat_reply("{}"))]
    with ScriptedServer(steps) as srv:
        provider = OpenAIProvider(
            JudgeSpec.parse("compatible:m"), load_settings(openai_base_url=f"{srv.url}/v1")
        )
        await provider.structured("s", "u", SCHEMA, "n", [])
        await provider.structured("s", "u", SCHEMA, "n", [])
        await provider.aclose()
    formats = [r["body"]["response_format"]["type"] for r in srv.script.requests]
    assert formats == ["json_schema", "json_object", "json_schema"]


async def test_other_400_does_not_downgrade_the_format() -> None:
    too_long = {"error": {"message": "maximum context length is 8192 tokens; got 9000"}}
    steps = [Step(status=400, body=too_long), Step(body=chat_reply("{}"))]
    with ScriptedServer(steps) as srv:
        provider = OpenAIProvider(
            JudgeSpec.parse("compatible:m"), load_settings(openai_base_url=f"{srv.url}/v1")
        )
        with pytest.raises(openai.BadRequestError):
            await provider.structured("s", "u", SCHEMA, "n", [])
        await provider.structured("s", "u", SCHEMA, "n", [])
        await provider.aclose()
    formats = [r["body"]["response_format"]["type"] for r in srv.script.requests]
    assert formats == ["json_schema", "json_schema"]


async def test_judge_closes_its_client(lora: tuple[Question, Rubric], judge: OfflineJudge) -> None:
    q, r = lora
    with ScriptedServer([Step(body=chat_reply(json.dumps(good_reply(r))))], keep_alive=True) as srv:
        llm = openai_judge(srv.url, judge)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            await llm.agrade(q, r, STRONG)
            await llm.aclose()
            del llm
            gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


async def test_aclose_closes_the_sdk_client(
    lora: tuple[Question, Rubric], judge: OfflineJudge
) -> None:
    llm = openai_judge("http://127.0.0.1:9", judge)
    provider = llm.provider
    assert isinstance(provider, OpenAIProvider)
    await llm.aclose()
    assert provider.client.is_closed()


@pytest.mark.parametrize(
    "spec,message",
    [
        ("gpt4", "is not one of"),
        ("compatible:", "is not one of"),
        ("openai:gpt 4o", "is not a model name"),
        ("openai:gpt-4o\n", None),  # trailing whitespace is only trimmed
        ("anthropic:claude'; rm", "is not a model name"),
        ("compatible:" + "x" * 300, "is not a model name"),
    ],
)
def test_spec_and_model_name_are_checked(spec: str, message: str | None) -> None:
    if message is None:
        assert JudgeSpec.parse(spec).model == "gpt-4o"
        return
    with pytest.raises(ConfigError, match=message):
        JudgeSpec.parse(spec)
