"""The providers' batch APIs, one adapter each, through the official SDKs.

- OpenAI Batch API (`openai:` and `compatible:` servers that implement it): the requests
  are uploaded as a JSONL file (`files.create`, purpose "batch"), a batch is created over
  it (`batches.create`, endpoint /v1/chat/completions, 24h window), polled
  (`batches.retrieve`), and its output and error files downloaded (`files.content`).
  At most 50,000 requests and 200 MB a file (the SDK's `batches.create` docs).
- Anthropic Message Batches: `messages.batches.create` with the requests, `retrieve` to
  poll, `results` to stream the JSONL results. At most 100,000 requests or 256 MB a batch
  (Anthropic's batch processing guide).

Each request's `custom_id` is the row's grade-cache key (64 hex digits: within both
providers' limits), so results map back to rows whatever order they come in.

Each batch carries the local submission id recorded before it was created, so that a run
that crashed between the provider's answer and recording the job can find the batch again
(`find`, listing the provider's batches newest first). OpenAI batches take metadata:
`interviewer_submission` holds it. Anthropic Message Batches have no metadata (only id,
times, status and counts), so each request's custom_id carries it as a prefix:
`SUBMISSION_KEY` where KEY is the 32-byte key in base64url, 16 + 1 + 43 = 60 characters,
within Anthropic's `^[a-zA-Z0-9_-]{1,64}$`. Its requests can only be read from the
results once a batch has ended, so a batch still running is matched by its time and its
number of requests (and its results are still mapped back by custom_id, so another
batch's results cannot be taken for this one's). The request
bodies are the ones the live judge sends (`OpenAIProvider.chat_body`,
`AnthropicProvider.message_params`), and the replies go through the same parsing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

from anthropic.types.messages import MessageBatch
from openai.types import Batch
from openai.types.chat import ChatCompletion

from interviewer.llm.providers import (
    AnthropicProvider,
    OpenAIProvider,
    Provider,
    chat_completion,
    message_completion,
)
from interviewer.llm.retry import call_with_retries
from interviewer.llm.types import Completion

T = TypeVar("T")
TOOL = "record_grade"
CHAT_ENDPOINT: Final = "/v1/chat/completions"
SUBMISSION_KEY: Final = "interviewer_submission"  # in an OpenAI batch's metadata
CLOCK_SKEW = 300.0  # seconds: a batch made before its record by this much is not it
LIST_PAGE = 100


@dataclass(frozen=True)
class Limits:
    requests: int
    bytes: int


OPENAI_LIMITS = Limits(requests=50_000, bytes=200 * 1024 * 1024)
ANTHROPIC_LIMITS = Limits(requests=100_000, bytes=256 * 1024 * 1024)


@dataclass(frozen=True)
class JobStatus:
    """A job's state in the provider's words, and its request counts so far."""

    job_id: str
    state: str
    ended: bool
    total: int
    succeeded: int
    failed: int

    def describe(self) -> str:
        done = self.succeeded + self.failed
        return (
            f"{self.job_id}: {self.state}, {done}/{self.total} done "
            f"({self.succeeded} succeeded, {self.failed} failed)"
        )


@dataclass(frozen=True)
class Outcome:
    """One request's result: a reply, or why there is none."""

    key: str
    completion: Completion | None = None
    failure: str | None = None


@dataclass(frozen=True)
class Found:
    """The batch a pending submission made at the provider, and how it was recognised."""

    job_id: str
    how: str


class BatchAPI(Protocol):
    limits: Limits

    def request(self, key: str, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]:
        """One request of the batch, with `key` as its custom_id."""
        ...

    async def submit(self, requests: list[dict[str, Any]], submission: str) -> str:
        """Submit one batch (within `limits`) carrying the submission id; its job id."""
        ...

    async def find(self, submission: str, since: float, count: int, skip: set[str]) -> Found | None:
        """The batch that submission `submission` (recorded at `since`, `count` requests)
        made at the provider, if any, not one of `skip` (jobs recorded already)."""
        ...

    async def status(self, job_id: str) -> JobStatus: ...

    def results(self, job_id: str, keys: list[str]) -> AsyncIterator[Outcome]:
        """An outcome for every key of an ended job (a key with no result is a failure)."""
        ...


def request_size(request: dict[str, Any]) -> int:
    """Bytes the request takes in the upload (one JSONL line and its newline)."""
    return len(json.dumps(request, ensure_ascii=False).encode("utf-8")) + 1


class Packer:
    """Fills batches in order: `add` returns the batch that is full when the next request
    would not fit in it (by count or bytes); `rest` the last one."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.budget = limits.bytes - 1024  # the envelope around the requests
        self.chunk: list[dict[str, Any]] = []
        self.size = 0

    def add(self, request: dict[str, Any]) -> list[dict[str, Any]] | None:
        n = request_size(request)
        if n > self.budget:
            raise ValueError(
                f"request {request.get('custom_id')} alone is {n} bytes, over the limit"
            )
        full = None
        if self.chunk and (len(self.chunk) >= self.limits.requests or self.size + n > self.budget):
            full, self.chunk, self.size = self.chunk, [], 0
        self.chunk.append(request)
        self.size += n
        return full

    def rest(self) -> list[dict[str, Any]] | None:
        rest, self.chunk, self.size = self.chunk, [], 0
        return rest or None


def split(requests: list[dict[str, Any]], limits: Limits) -> list[list[dict[str, Any]]]:
    """The requests in order, cut into batches within the provider's limits."""
    packer = Packer(limits)
    chunks = [full for r in requests if (full := packer.add(r)) is not None]
    rest = packer.rest()
    return [*chunks, rest] if rest else chunks


class _Retrying:
    """Every SDK call under the judge's retry policy (429, 5xx, timeouts, resets)."""

    max_retries: int = 4
    deadline: float = 600.0
    retry_wait: float = 1.0

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retries(
            call,
            max_retries=self.max_retries,
            deadline=self.deadline,
            initial_wait=self.retry_wait,
        )


class OpenAIBatch(_Retrying):
    limits = OPENAI_LIMITS
    TERMINAL = frozenset({"completed", "expired", "failed", "cancelled"})

    def __init__(self, provider: OpenAIProvider, limits: Limits | None = None) -> None:
        self.provider = provider
        self.client = provider.client
        if limits is not None:
            self.limits = limits

    def request(self, key: str, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]:
        body = self.provider.chat_body(system, user, schema, TOOL, [])
        return {"custom_id": key, "method": "POST", "url": CHAT_ENDPOINT, "body": body}

    async def submit(self, requests: list[dict[str, Any]], submission: str) -> str:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests).encode()
        upload = await self._call(
            lambda: self.client.files.create(
                file=("interviewer-batch.jsonl", data, "application/jsonl"),
                purpose="batch",
                timeout=max(600.0, len(data) / 1e5),
            )
        )
        batch = await self._call(
            lambda: self.client.batches.create(
                input_file_id=upload.id,
                endpoint=CHAT_ENDPOINT,
                completion_window="24h",
                metadata={"source": "interviewer grade --batch-api", SUBMISSION_KEY: submission},
            )
        )
        return batch.id

    async def find(self, submission: str, since: float, count: int, skip: set[str]) -> Found | None:
        after: str | None = None
        while True:
            page = await self._call(
                lambda after=after: self.client.batches.list(  # type: ignore[misc]
                    limit=LIST_PAGE, **({"after": after} if after else {})
                )
            )
            for batch in page.data:  # newest first
                if batch.created_at < since - CLOCK_SKEW:
                    return None
                if batch.id not in skip and (batch.metadata or {}).get(SUBMISSION_KEY) == (
                    submission
                ):
                    return Found(batch.id, f"its metadata {SUBMISSION_KEY}={submission}")
            if not page.data or not page.has_more:
                return None
            after = page.data[-1].id

    async def status(self, job_id: str) -> JobStatus:
        batch = await self._call(lambda: self.client.batches.retrieve(job_id))
        counts = batch.request_counts
        total = counts.total if counts else 0
        return JobStatus(
            job_id=job_id,
            state=batch.status,
            ended=batch.status in self.TERMINAL,
            total=total,
            succeeded=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
        )

    async def results(self, job_id: str, keys: list[str]) -> AsyncIterator[Outcome]:
        batch: Batch = await self._call(lambda: self.client.batches.retrieve(job_id))
        wanted = set(keys)
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self._call(lambda fid=file_id: self.client.files.content(fid))  # type: ignore[misc]
            for n, line in enumerate(content.text.splitlines(), 1):
                if not line.strip():
                    continue
                outcome = self._outcome(line, f"{job_id} file {file_id} line {n}")
                if outcome is not None and outcome.key in wanted:
                    wanted.discard(outcome.key)
                    yield outcome
        why = _batch_errors(batch)
        for key in sorted(wanted):  # requests the batch never answered
            yield Outcome(key, failure=f"no result in batch {job_id} ({batch.status}{why})")

    def _outcome(self, line: str, where: str) -> Outcome | None:
        try:
            item = json.loads(line)
            key = str(item["custom_id"])
        except (ValueError, KeyError, TypeError):
            return None  # a line we cannot attribute: its key is reported as missing
        response = item.get("response") or {}
        error = item.get("error") or {}
        status = response.get("status_code")
        if status == 200 and not error:
            try:
                completion = chat_completion(
                    ChatCompletion.model_validate(response.get("body")), self.provider.spec
                )
            except Exception as exc:
                return Outcome(key, failure=f"unusable reply ({where}): {str(exc)[:160]}")
            return Outcome(key, completion=completion)
        body_error = (response.get("body") or {}).get("error") or {}
        message = error.get("message") or body_error.get("message") or "no message"
        code = error.get("code") or body_error.get("code") or (f"HTTP {status}" if status else "")
        return Outcome(key, failure=f"{code}: {message}"[:300])


class AnthropicBatch(_Retrying):
    limits = ANTHROPIC_LIMITS

    def __init__(self, provider: AnthropicProvider, limits: Limits | None = None) -> None:
        self.provider = provider
        self.client = provider.client
        if limits is not None:
            self.limits = limits

    def request(self, key: str, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "custom_id": key,
            "params": self.provider.message_params(system, user, schema, TOOL, []),
        }

    async def submit(self, requests: list[dict[str, Any]], submission: str) -> str:
        marked = [{**r, "custom_id": marked_id(submission, r["custom_id"])} for r in requests]
        batch = await self._call(
            lambda: self.client.messages.batches.create(
                requests=marked,  # type: ignore[arg-type]
                timeout=600.0,
            )
        )
        return batch.id

    async def find(self, submission: str, since: float, count: int, skip: set[str]) -> Found | None:
        running: list[str] = []  # the same size, made since, still running: newest first
        after: str | None = None
        while True:
            page = await self._call(
                lambda after=after: self.client.messages.batches.list(  # type: ignore[misc]
                    limit=LIST_PAGE, **({"after_id": after} if after else {})
                )
            )
            for batch in page.data:  # newest first
                if batch.created_at.timestamp() < since - CLOCK_SKEW:
                    return self._running_match(running, count)
                c = batch.request_counts
                size = c.processing + c.succeeded + c.errored + c.expired + c.canceled
                if batch.id in skip or size != count:
                    continue
                if batch.processing_status != "ended":
                    running.append(batch.id)
                elif await self._submission_of(batch.id) == submission:
                    return Found(batch.id, f"its custom_ids carry {submission}")
            if not page.data or not page.has_more or not page.last_id:
                return self._running_match(running, count)
            after = page.last_id

    @staticmethod
    def _running_match(running: list[str], count: int) -> Found | None:
        if not running:
            return None
        return Found(
            running[-1],  # the first one made after the record
            f"still running, made after the record with its {count} requests; its results "
            "are mapped back by custom_id",
        )

    async def _submission_of(self, job_id: str) -> str | None:
        """The submission id on an ended batch's first result."""
        stream = await self._call(lambda: self.client.messages.batches.results(job_id))
        try:
            async for item in stream:
                return unmarked(item.custom_id)[0]
        finally:
            await stream.close()
        return None

    async def status(self, job_id: str) -> JobStatus:
        batch: MessageBatch = await self._call(
            lambda: self.client.messages.batches.retrieve(job_id)
        )
        c = batch.request_counts
        failed = c.errored + c.expired + c.canceled
        return JobStatus(
            job_id=job_id,
            state=batch.processing_status,
            ended=batch.processing_status == "ended",
            total=c.processing + c.succeeded + failed,
            succeeded=c.succeeded,
            failed=failed,
        )

    async def results(self, job_id: str, keys: list[str]) -> AsyncIterator[Outcome]:
        wanted = set(keys)
        stream = await self._call(lambda: self.client.messages.batches.results(job_id))
        async for item in stream:
            key = key_of(item.custom_id)
            if key not in wanted:
                continue
            wanted.discard(key)
            result = item.result
            if result.type == "succeeded":
                try:
                    completion = message_completion(result.message, TOOL)
                except Exception as exc:
                    yield Outcome(key, failure=f"unusable reply: {str(exc)[:160]}")
                    continue
                yield Outcome(key, completion=completion)
            elif result.type == "errored":
                error = result.error.error
                yield Outcome(key, failure=f"errored: {error.type}: {error.message}"[:300])
            else:
                yield Outcome(key, failure=f"{result.type} in batch {job_id}")
        for key in sorted(wanted):
            yield Outcome(key, failure=f"no result in batch {job_id}")


def marked_id(submission: str, key: str) -> str:
    """An Anthropic custom_id: the submission id, "_", the key (64 hex digits) in base64url."""
    packed = base64.urlsafe_b64encode(bytes.fromhex(key)).rstrip(b"=").decode("ascii")
    return f"{submission}_{packed}"


def unmarked(custom_id: str) -> tuple[str | None, str]:
    """The submission id (None for a plain key: a batch submitted before submission ids)
    and the grade-cache key in an Anthropic custom_id made by `marked_id`."""
    submission, sep, packed = custom_id.partition("_")
    if not sep:
        return None, custom_id
    try:
        return submission, base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).hex()
    except ValueError:
        return submission, custom_id  # not one of ours: matches no key


def key_of(custom_id: str) -> str:
    """The grade-cache key in an Anthropic custom_id (see `unmarked`)."""
    return unmarked(custom_id)[1]


def _batch_errors(batch: Batch) -> str:
    errors = batch.errors.data if batch.errors and batch.errors.data else []
    messages = [e.message for e in errors if e.message][:3]
    return f": {'; '.join(messages)}" if messages else ""


def batch_api(provider: Provider, limits: Limits | None = None) -> BatchAPI:
    """The batch API of the judge's provider."""
    if isinstance(provider, AnthropicProvider):
        return AnthropicBatch(provider, limits)
    if isinstance(provider, OpenAIProvider):
        return OpenAIBatch(provider, limits)
    raise ValueError(f"{provider.spec} has no batch API")
