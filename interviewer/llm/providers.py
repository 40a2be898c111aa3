"""Provider adapters: one method each, `structured()`, returning JSON text or data.

- `openai:MODEL`: Chat Completions with a strict json_schema response format.
- `compatible:MODEL`: the same API at another base URL (Ollama, vLLM, llama.cpp, DeepSeek,
  Qwen...); json_schema first, json_object for a request the server refuses json_schema.
- `anthropic:MODEL`: Messages with one forced tool whose input schema is the reply schema.

Keys: `openai:` always talks to api.openai.com with OPENAI_API_KEY. `compatible:` talks to
OPENAI_BASE_URL / --base-url with INTERVIEWER_COMPATIBLE_API_KEY or the variable that
--api-key-env names, and with OPENAI_API_KEY only when that URL is api.openai.com itself;
a local server needs no key. The SDKs' own environment lookups (OPENAI_BASE_URL,
OPENAI_ORG_ID...) are overridden, so nothing else reaches another host.

The system prompt (instructions + rubric) comes first and the answer last, so the prefix
is the same for every answer to one question and providers' prompt caches can reuse it.
SDK retries are off: `interviewer.llm.retry` decides.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import urlsplit

import anthropic
import openai
from anthropic.types import Message
from openai.types.chat import ChatCompletion

from interviewer.config import JudgeSpec, Settings
from interviewer.errors import ConfigError, NeedsKeyError
from interviewer.llm.types import Completion, TokenUsage


class ProviderReplyError(Exception):
    """The provider answered, but not with a reply we can use (no choices, no content)."""


OPENAI_API = "https://api.openai.com/v1"
# A 400 that says the server cannot do the json_schema response format (and not, say,
# that the prompt is too long): only then is the request sent again with json_object.
_FORMAT_REFUSED = re.compile(
    r"response_format|response format|json_schema|json schema|structured output", re.IGNORECASE
)


def is_openai_host(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "").lower() == "api.openai.com"


def compatible_key(settings: Settings, base_url: str) -> str | None:
    """The key for a compatible server: never OPENAI_API_KEY unless it is OpenAI's own."""
    if settings.api_key_env:
        value = os.environ.get(settings.api_key_env, "").strip()
        if not value:
            raise NeedsKeyError(
                f"--api-key-env names {settings.api_key_env}, which is not set or empty",
                hint=f"Set {settings.api_key_env} to the server's key, or drop --api-key-env "
                "for a server that needs none.",
            )
        return value
    if settings.compatible_api_key:
        return settings.compatible_api_key.get_secret_value()
    if is_openai_host(base_url) and settings.openai_api_key:
        return settings.openai_api_key.get_secret_value()
    if is_openai_host(base_url):
        raise NeedsKeyError(
            "api.openai.com needs an OpenAI API key",
            hint="Set OPENAI_API_KEY, or use --judge openai:MODEL.",
        )
    return None


def endpoint_of(spec: JudgeSpec, settings: Settings) -> str:
    """The URL a spec's requests go to (no key needed to know it)."""
    if spec.provider == "compatible":
        return settings.openai_base_url or ""
    if spec.provider == "anthropic":
        return settings.anthropic_base_url or "https://api.anthropic.com"
    return OPENAI_API


class Provider(Protocol):
    spec: str

    @property
    def endpoint(self) -> str: ...

    async def ping(self) -> None: ...

    async def structured(
        self, system: str, user: str, schema: dict[str, Any], name: str, extra: list[str]
    ) -> Completion: ...

    def stream(self, system: str, messages: list[dict[str, str]]) -> AsyncIterator[str]: ...

    async def aclose(self) -> None: ...


class OpenAIProvider:
    """OpenAI and OpenAI-compatible servers, through the official SDK."""

    def __init__(self, spec: JudgeSpec, settings: Settings) -> None:
        self.spec = str(spec)
        self.model = spec.model
        self.compatible = spec.provider == "compatible"
        base_url = endpoint_of(spec, settings)
        if self.compatible:
            if not base_url:
                raise ConfigError(
                    f"{self.spec} needs the server's base URL",
                    hint="Set OPENAI_BASE_URL or pass --base-url, e.g. http://localhost:11434/v1",
                )
            key = compatible_key(settings, base_url)
        else:
            # Always OpenAI's own API: OPENAI_BASE_URL is for compatible servers, and the
            # SDK would otherwise read it (and send OPENAI_API_KEY there) by itself.
            key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
            if not key:
                raise NeedsKeyError(
                    f"{self.spec} needs an OpenAI API key",
                    hint="Set OPENAI_API_KEY, or use --judge offline (no key needed).",
                )
        self.base_url = base_url
        self.client = openai.AsyncOpenAI(
            api_key=key or "not-needed",
            base_url=base_url,
            max_retries=0,
            timeout=settings.timeout,
        )
        if self.compatible:
            # The SDK fills these from OPENAI_ORG_ID / OPENAI_PROJECT_ID: not for others.
            self.client.organization = None
            self.client.project = None
        self.dropped: set[str] = set()  # sampling parameters the model refused

    @property
    def endpoint(self) -> str:
        return self.base_url

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"temperature": 0, "seed": 0}
        return {k: v for k, v in options.items() if k not in self.dropped}

    def chat_body(
        self,
        system: str,
        user: str,
        schema: dict[str, Any],
        name: str,
        extra: list[str],
        json_object: bool = False,
    ) -> dict[str, Any]:
        """The Chat Completions request body for one structured reply (also one line of a
        Batch API input file)."""
        messages: list[dict[str, str]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        for note in extra:
            messages.append({"role": "user", "content": note})
        if json_object:
            fmt: dict[str, Any] = {"type": "json_object"}
        else:
            fmt = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True},
            }
        return {
            "model": self.model,
            "messages": messages,
            "response_format": fmt,
            "max_tokens": 2048,
            **self._options(),
        }

    async def structured(
        self, system: str, user: str, schema: dict[str, Any], name: str, extra: list[str]
    ) -> Completion:
        json_object = False  # this request only: the next one tries json_schema again
        while True:
            request = self.chat_body(system, user, schema, name, extra, json_object)
            try:
                # The body is plain JSON already: `post` sends it as it is, where
                # `chat.completions.create` walks it through the SDK's typed transform
                # (a few milliseconds of CPU a request, which adds up in batch grading).
                # Errors, retries off, timeouts and the parsed reply are the same.
                response = await self.client.post(
                    "/chat/completions", body=request, cast_to=ChatCompletion
                )
                break
            except openai.BadRequestError as exc:
                if self._drop_refused(exc):
                    continue
                if self.compatible and not json_object and _FORMAT_REFUSED.search(str(exc)):
                    json_object = True
                    continue
                raise
        return chat_completion(response, self.spec)

    def _drop_refused(self, exc: openai.BadRequestError) -> bool:
        """Drop a sampling parameter the model refuses (o-series: temperature); True when
        there was one to drop, for the rest of the run: the model will refuse it again."""
        message = str(exc).lower()
        for param in ("temperature", "seed"):
            if param in message and param not in self.dropped:
                self.dropped.add(param)
                return True
        return False

    async def ping(self) -> None:
        """One request of one token: a wrong key, model or URL fails here, not on row 1."""
        await self.client.post(
            "/chat/completions",
            body={
                "model": self.model,
                "messages": [{"role": "user", "content": "ping"}],
                "max_tokens": 1,
            },
            cast_to=ChatCompletion,
        )

    async def stream(self, system: str, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        chat = [{"role": "system", "content": system}, *messages]
        request: dict[str, Any] = {
            "model": self.model,
            "messages": chat,
            "stream": True,
            "max_tokens": 512,
        }
        if "temperature" not in self.dropped:
            request["temperature"] = 0.3
        response = await self.client.chat.completions.create(**request)
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    async def aclose(self) -> None:
        await self.client.close()


class AnthropicProvider:
    """Anthropic Messages API: the reply schema is a tool the model must call."""

    def __init__(self, spec: JudgeSpec, settings: Settings, base_url: str | None = None) -> None:
        self.spec = str(spec)
        self.model = spec.model
        key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
        if not key:
            raise NeedsKeyError(
                f"{self.spec} needs an Anthropic API key",
                hint="Set ANTHROPIC_API_KEY, or use --judge offline (no key needed).",
            )
        self.base_url = base_url or endpoint_of(spec, settings)
        self.client = anthropic.AsyncAnthropic(
            api_key=key, base_url=self.base_url, max_retries=0, timeout=settings.timeout
        )

    @property
    def endpoint(self) -> str:
        return self.base_url

    async def ping(self) -> None:
        """One request of one token: a wrong key, model or URL fails here, not on row 1."""
        await self.client.messages.create(
            model=self.model, max_tokens=1, messages=[{"role": "user", "content": "ping"}]
        )

    def message_params(
        self, system: str, user: str, schema: dict[str, Any], name: str, extra: list[str]
    ) -> dict[str, Any]:
        """The Messages request for one structured reply (also the `params` of one request
        in a Message Batch)."""
        content = "\n\n".join([user, *extra])
        # This SDK's Messages API takes no sampling temperature; the forced tool call and the
        # schema are what keep replies consistent.
        return {
            "model": self.model,
            "max_tokens": 2048,
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": content}],
            "tools": [
                {
                    "name": name,
                    "description": "Record the grade of the answer.",
                    "input_schema": schema,
                }
            ],
            "tool_choice": {"type": "tool", "name": name},
        }

    async def structured(
        self, system: str, user: str, schema: dict[str, Any], name: str, extra: list[str]
    ) -> Completion:
        params = self.message_params(system, user, schema, name, extra)
        response = await self.client.messages.create(**params)
        return message_completion(response, name)

    async def stream(self, system: str, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        async with self.client.messages.stream(
            model=self.model,
            max_tokens=512,
            system=system,
            messages=messages,  # type: ignore[arg-type]
        ) as stream:
            async for text in stream.text_stream:
                yield text

    async def aclose(self) -> None:
        await self.client.close()


def chat_completion(response: ChatCompletion, spec: str) -> Completion:
    """A Chat Completions reply as a Completion (the JSON is in `text`)."""
    if not response.choices:
        raise ProviderReplyError(f"{spec} replied with no choices")
    choice = response.choices[0]
    usage = TokenUsage()
    if response.usage is not None:
        details = response.usage.prompt_tokens_details
        usage = TokenUsage(
            input_tokens=response.usage.prompt_tokens,
            output_tokens=response.usage.completion_tokens,
            cached_input_tokens=(details.cached_tokens or 0) if details else 0,
        )
    return Completion(
        text=choice.message.content or "",
        data=None,
        finish_reason=str(choice.finish_reason),
        usage=usage,
    )


def message_completion(response: Message, name: str) -> Completion:
    """A Messages reply as a Completion: the forced tool call's input is the data."""
    data: dict[str, Any] | None = None
    text_parts: list[str] = []
    for block in response.content:
        if block.type == "tool_use" and block.name == name:
            data = dict(block.input) if isinstance(block.input, dict) else None
        elif block.type == "text":
            text_parts.append(block.text)
    usage = TokenUsage(
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
        cached_input_tokens=response.usage.cache_read_input_tokens or 0,
    )
    return Completion(
        text=json.dumps(data) if data is not None else "".join(text_parts),
        data=data,
        finish_reason=str(response.stop_reason),
        usage=usage,
    )


def make_provider(spec: JudgeSpec, settings: Settings) -> Provider:
    if spec.provider == "anthropic":
        return AnthropicProvider(spec, settings)
    if spec.provider in ("openai", "compatible"):
        return OpenAIProvider(spec, settings)
    raise ValueError(f"no provider for {spec}")
