"""Keys go only where they belong (issue 13 item 3): every request's headers are captured
by a loopback server, through the real OpenAI SDK.

- `OPENAI_API_KEY` is sent to api.openai.com only (these tests never call it: they check
  where the client points); a `compatible:` server gets `INTERVIEWER_COMPATIBLE_API_KEY`
  or the variable `--api-key-env` names.
- Only OPENAI_BASE_URL / --base-url set an endpoint; a generic BASE_URL redirects nothing.
"""

from __future__ import annotations

import json

import pytest

from interviewer.config import JudgeSpec, load_settings
from interviewer.errors import ConfigError
from interviewer.llm.providers import OpenAIProvider, make_provider
from tests.support.scripted_http import ScriptedServer, Step, chat_reply

CANARY = "sk-canary-openai-123"
SCHEMA = {"type": "object", "properties": {}, "additionalProperties": False}


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-canary")


async def one_request(base_url: str, spec: str = "compatible:some-model") -> None:
    provider = make_provider(JudgeSpec.parse(spec), load_settings(openai_base_url=base_url))
    try:
        await provider.structured("system", "user", SCHEMA, "record_grade", [])
    finally:
        await provider.aclose()


def sent_headers(srv: ScriptedServer) -> list[str]:
    assert srv.script.requests, "the request reached the server"
    return [json.dumps(r["headers"]) for r in srv.script.requests]


@pytest.mark.usefixtures("openai_env")
async def test_openai_key_never_reaches_a_compatible_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with ScriptedServer([Step(body=chat_reply("{}"))]) as srv:
        monkeypatch.setenv("BASE_URL", f"{srv.url}/v1")  # a generic variable, for good measure
        await one_request(f"{srv.url}/v1")
    for headers in sent_headers(srv):
        assert CANARY not in headers
        assert "org-canary" not in headers  # nor the OpenAI organisation id


@pytest.mark.usefixtures("openai_env")
async def test_compatible_key_comes_from_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWER_COMPATIBLE_API_KEY", "sk-compat-456")
    with ScriptedServer([Step(body=chat_reply("{}"))]) as srv:
        await one_request(f"{srv.url}/v1")
    (request,) = srv.script.requests
    assert request["headers"]["authorization"] == "Bearer sk-compat-456"


@pytest.mark.usefixtures("openai_env")
async def test_api_key_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_KEY", "sk-mine-789")
    monkeypatch.setenv("INTERVIEWER_COMPATIBLE_API_KEY", "sk-compat-456")
    with ScriptedServer([Step(body=chat_reply("{}"))]) as srv:
        settings = load_settings(openai_base_url=f"{srv.url}/v1", api_key_env="MY_LLM_KEY")
        provider = make_provider(JudgeSpec.parse("compatible:m"), settings)
        await provider.structured("system", "user", SCHEMA, "record_grade", [])
        await provider.aclose()
    (request,) = srv.script.requests
    assert request["headers"]["authorization"] == "Bearer sk-mine-789"


def test_api_key_env_that_is_not_set_is_a_clear_error() -> None:
    settings = load_settings(openai_base_url="http://127.0.0.1:9/v1", api_key_env="NOT_SET_VAR")
    with pytest.raises(ConfigError, match="NOT_SET_VAR"):
        make_provider(JudgeSpec.parse("compatible:m"), settings)
    with pytest.raises(ConfigError, match="environment variable name"):
        load_settings(api_key_env="not a name")


@pytest.mark.usefixtures("openai_env")
def test_generic_base_url_redirects_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.openai_base_url is None
    provider = make_provider(JudgeSpec.parse("openai:gpt-4o-mini"), settings)
    assert str(provider.client.base_url).startswith("https://api.openai.com/")  # type: ignore[attr-defined]


@pytest.mark.usefixtures("openai_env")
def test_openai_judge_talks_only_to_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_BASE_URL is for compatible servers: `openai:` ignores it (the SDK itself
    would read it and send the OpenAI key there)."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    provider = OpenAIProvider(JudgeSpec.parse("openai:gpt-4o-mini"), load_settings())
    assert str(provider.client.base_url).startswith("https://api.openai.com/")
    assert provider.client.api_key == CANARY


@pytest.mark.usefixtures("openai_env")
def test_compatible_at_openai_itself_may_use_the_openai_key() -> None:
    settings = load_settings(openai_base_url="https://api.openai.com/v1")
    provider = OpenAIProvider(JudgeSpec.parse("compatible:gpt-4o-mini"), settings)
    assert provider.client.api_key == CANARY


def test_local_server_needs_no_key() -> None:
    settings = load_settings(openai_base_url="http://127.0.0.1:9/v1")
    provider = OpenAIProvider(JudgeSpec.parse("compatible:qwen2.5:7b"), settings)
    assert provider.client.api_key not in ("", CANARY)


def test_base_url_must_be_an_http_url() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        load_settings(openai_base_url="localhost:11434/v1")


def test_toml_sets_the_endpoint_and_config_show_masks_the_compatible_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from interviewer.cli import app
    from interviewer.config import config_file

    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text('openai_base_url = "http://127.0.0.1:9/v1"\n', "utf-8")
    monkeypatch.setenv("INTERVIEWER_COMPATIBLE_API_KEY", "sk-compat-secret-4567")
    assert load_settings().openai_base_url == "http://127.0.0.1:9/v1"
    shown = CliRunner().invoke(app, ["config", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    assert "secret" not in shown.output
    assert json.loads(shown.output)["compatible_api_key"] == "sk-…4567"
