"""No silent fallback, no hang (issue 13 item 8): the preflight turns 401/403/404 into a clear
error, one deadline bounds a whole grade, and a breaker stops asking an endpoint that keeps
timing out. Real SDKs against a scripted loopback server."""

from __future__ import annotations

import json
import time

import pytest

from interviewer.bank.schema import Question, Rubric
from interviewer.config import JudgeSpec, load_settings
from interviewer.errors import ConfigError
from interviewer.judge import cache_name, make_judge
from interviewer.judge.llm import JudgeUnavailable, LLMJudge
from interviewer.judge.offline import OfflineJudge
from interviewer.llm.providers import AnthropicProvider
from interviewer.llm.retry import Breaker
from tests.judge.conftest import STRONG
from tests.judge.test_llm_faults import good_reply, openai_judge
from tests.support.scripted_http import ScriptedServer, Step, chat_reply

Lora = tuple[Question, Rubric]


@pytest.mark.parametrize(
    "status,message",
    [(401, "key was refused"), (403, "no access"), (404, "not found")],
)
async def test_preflight_names_the_problem(judge: OfflineJudge, status: int, message: str) -> None:
    body = {"error": {"message": "nope", "type": "invalid_request_error"}}
    with ScriptedServer([Step(status=status, body=body)]) as srv:
        llm = openai_judge(srv.url, judge)
        with pytest.raises(ConfigError, match=message) as info:
            await llm.preflight()
        await llm.aclose()
    assert "compatible:scripted" in info.value.message and srv.url in info.value.message
    assert len(srv.script.requests) == 1, "not retried"
    assert srv.script.requests[0]["body"]["max_tokens"] == 1, "a one-token request"


async def test_preflight_anthropic_401(judge: OfflineJudge) -> None:
    body = {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}
    with ScriptedServer([Step(status=401, body=body)]) as srv:
        settings = load_settings(anthropic_api_key="sk-ant-test-0000")
        provider = AnthropicProvider(JudgeSpec.parse("anthropic:claude-x"), settings, srv.url)
        llm = LLMJudge(provider=provider, offline=judge)
        with pytest.raises(ConfigError, match="401"):
            await llm.preflight()
        await llm.aclose()


async def test_preflight_on_a_dead_port_is_unavailable(judge: OfflineJudge) -> None:
    with ScriptedServer([Step()]) as srv:
        url = srv.url  # the port is free again once the server is gone
    llm = openai_judge(url, judge, retry_wait=0.01)
    with pytest.raises(JudgeUnavailable, match="not answering"):
        await llm.preflight()
    await llm.aclose()


async def test_preflight_passes_when_the_model_answers(judge: OfflineJudge) -> None:
    with ScriptedServer([Step(body=chat_reply("p"))]) as srv:
        llm = openai_judge(srv.url, judge)
        await llm.preflight()
        await llm.aclose()
    assert len(srv.script.requests) == 1


async def test_hung_endpoint_costs_the_deadline_not_minutes(
    lora: Lora, judge: OfflineJudge
) -> None:
    q, r = lora
    judge.grade(q, r, STRONG)  # warm: the model loads once, outside the timing
    with ScriptedServer([Step(delay=60, body=chat_reply("{}"))]) as srv:
        llm = openai_judge(srv.url, judge, timeout=30.0)
        llm.deadline = 1.5
        started = time.monotonic()
        grade = await llm.agrade(q, r, STRONG)
        elapsed = time.monotonic() - started
    assert elapsed < 3.0, elapsed
    assert "judge_fallback" in grade.flags
    assert grade.judge == "offline (fallback from compatible:scripted)"
    assert any("deadline of 1.5s" in n for n in grade.notes), grade.notes


async def test_deadline_is_total_across_the_second_ask(lora: Lora, judge: OfflineJudge) -> None:
    """An unusable reply is asked for once more, within what is left of the same deadline."""
    q, r = lora
    judge.grade(q, r, STRONG)  # warm: the model loads once, outside the timing
    steps = [Step(delay=1.5, body=chat_reply("{not json")), Step(delay=60, body=chat_reply("{}"))]
    with ScriptedServer(steps) as srv:
        llm = openai_judge(srv.url, judge, timeout=30.0)
        llm.deadline = 2.0
        started = time.monotonic()
        grade = await llm.agrade(q, r, STRONG)
        elapsed = time.monotonic() - started
    assert len(srv.script.requests) == 2
    assert "judge_fallback" in grade.flags
    assert elapsed < 3.0, f"{elapsed:.1f}s: the second ask got a fresh deadline"


async def test_breaker_opens_after_repeated_timeouts(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    with ScriptedServer([Step(delay=60, body=chat_reply("{}"))]) as srv:
        llm = openai_judge(srv.url, judge, timeout=0.4, breaker=Breaker(2, cooldown=60))
        llm.max_retries = 0
        for _ in range(2):
            grade = await llm.agrade(q, r, STRONG)
            assert "judge_fallback" in grade.flags
        asked = len(srv.script.requests)
        started = time.monotonic()
        grade = await llm.agrade(q, r, STRONG)
        elapsed = time.monotonic() - started
    assert asked == 2 and len(srv.script.requests) == 2, "the open breaker asked nobody"
    assert elapsed < 0.5
    assert "judge_fallback" in grade.flags
    assert any("2 times in a row" in n for n in grade.notes), grade.notes


async def test_breaker_closes_when_the_endpoint_answers_again(
    lora: Lora, judge: OfflineJudge
) -> None:
    q, r = lora
    steps = [
        Step(delay=60, body=chat_reply("{}")),
        Step(body=chat_reply(json.dumps(good_reply(r)))),
    ]
    with ScriptedServer(steps) as srv:
        breaker = Breaker(1, cooldown=0.3)
        llm = openai_judge(srv.url, judge, timeout=0.4, breaker=breaker)
        llm.max_retries = 0
        assert "judge_fallback" in (await llm.agrade(q, r, STRONG)).flags
        assert breaker.is_open
        time.sleep(0.35)  # cool-down over: one call may try again
        grade = await llm.agrade(q, r, STRONG)
    assert "judge_fallback" not in grade.flags
    assert not breaker.is_open and breaker.failures == 0


def test_defaults_bound_a_grade_to_a_minute() -> None:
    settings = load_settings()
    assert settings.deadline <= 60 and settings.timeout <= settings.deadline
    llm = make_judge("compatible:m", load_settings(openai_base_url="http://127.0.0.1:9/v1"))
    assert isinstance(llm, LLMJudge)
    assert llm.deadline == settings.deadline
    assert llm.breaker is not None and llm.breaker.threshold == settings.breaker_timeouts
    llm.close()


async def test_grade_records_the_judge_fingerprint(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    with ScriptedServer([Step(body=chat_reply(json.dumps(good_reply(r))))]) as srv:
        llm = openai_judge(srv.url, judge)
        grade = await llm.agrade(q, r, STRONG)
        await llm.aclose()
    assert len(llm.fingerprint) == 12 and int(llm.fingerprint, 16) >= 0
    assert grade.fingerprint == llm.fingerprint


def test_fingerprint_changes_with_what_changes_grades(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(openai_base_url="http://127.0.0.1:9/v1")

    def fp(spec: str) -> str:
        llm = make_judge(spec, settings)
        assert isinstance(llm, LLMJudge)
        llm.close()
        return llm.fingerprint

    first = fp("compatible:a")
    assert fp("compatible:a") == first, "stable"
    assert fp("compatible:b") != first, "the model"
    monkeypatch.setattr("interviewer.judge.llm.PROMPT_VERSION", "next")
    assert fp("compatible:a") != first, "the prompt template"
    monkeypatch.undo()
    monkeypatch.setattr("interviewer.__version__", "9.9.9")
    assert fp("compatible:a") != first, "the package version"
    monkeypatch.undo()
    other = load_settings(openai_base_url="http://127.0.0.1:10/v1")
    assert cache_name(JudgeSpec.parse("compatible:a"), settings) == f"compatible:a@{first}"
    assert cache_name(JudgeSpec.parse("compatible:a"), other) != f"compatible:a@{first}"
