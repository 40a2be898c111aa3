"""One retry policy for every provider call.

SDK retries are off (max_retries=0 on every client); these are the ones that count:
429, 5xx, timeouts and dropped connections are retried with exponential back-off and
jitter, a Retry-After header is honoured (capped, and never past the deadline), and a
total deadline bounds the whole call.
A `RateGate` shared by concurrent calls makes them all wait when any one sees a 429.
A `Breaker` shared by concurrent calls stops asking an endpoint that has timed out (or
refused the connection) several times in a row: calls fail at once with `CircuitOpen`
until a cool-down has passed, and then one call at a time tries again.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any, TypeVar

import anthropic
import httpx
import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

T = TypeVar("T")

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
MAX_RETRY_AFTER = 60.0  # the longest wait a Retry-After header can ask for


class CircuitOpen(Exception):
    """The endpoint timed out too often in a row: the call was not made."""


def status_of(exc: BaseException) -> int | None:
    if isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        return int(exc.status_code)
    return None


def is_unreachable(exc: BaseException) -> bool:
    """A timeout or a failed connection: the endpoint did not answer at all."""
    return isinstance(
        exc,
        openai.APIConnectionError  # APITimeoutError is one
        | anthropic.APIConnectionError
        | httpx.TransportError
        | asyncio.TimeoutError,
    )


def is_retryable(exc: BaseException) -> bool:
    if is_unreachable(exc):
        return True
    status = status_of(exc)
    return status is not None and status in RETRY_STATUS


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, else Retry-After), if it said
    so in a form we understand: seconds, or an HTTP date. Garbage, negative and NaN values
    count as not said (the exponential back-off applies); huge ones are capped at
    MAX_RETRY_AFTER."""
    response: Any = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            seconds = _seconds(str(value).strip(), scale, dates=name == "retry-after")
            if seconds is not None:
                return seconds
    return None


def _seconds(value: str, scale: float, dates: bool) -> float | None:
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if math.isnan(number) or number < 0:
            return None
        return min(number / scale, MAX_RETRY_AFTER)
    if not dates:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # RFC 9110 dates are GMT
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER)


class RateGate:
    """Shared back-off: after a 429, every caller waits until the gate opens again."""

    def __init__(self) -> None:
        self._open_at = 0.0

    def close_for(self, seconds: float) -> None:
        self._open_at = max(self._open_at, time.monotonic() + seconds)

    async def wait(self) -> None:
        delay = self._open_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class Breaker:
    """Shared by every call to one endpoint: after `threshold` timeouts or connection
    failures in a row it opens, and calls fail at once (`CircuitOpen`) for `cooldown`
    seconds; then one call is let through to try, and an answer of any kind closes it."""

    def __init__(self, threshold: int = 3, cooldown: float = 60.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return self.failures >= self.threshold and time.monotonic() < self._open_until

    def allow(self) -> bool:
        if self.failures < self.threshold:
            return True
        now = time.monotonic()
        if now < self._open_until:
            return False
        self._open_until = now + self.cooldown  # this call tries; the others wait
        return True

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self._open_until = time.monotonic() + self.cooldown

    def answered(self) -> None:
        self.failures = 0
        self._open_until = 0.0

    def describe(self) -> str:
        return (
            f"the endpoint timed out or refused {self.failures} times in a row; "
            f"not asking it again for up to {self.cooldown:g}s"
        )


class _Wait:
    """Retry-After when given (capped), else exponential back-off with jitter."""

    def __init__(self, initial: float, maximum: float, gate: RateGate | None) -> None:
        self._fallback = wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)
        self._gate = gate

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        try:
            asked = retry_after(exc)
        except Exception:  # a header we cannot read must not stop the retries
            asked = None
        delay = asked if asked is not None else self._fallback(state)
        if self._gate is not None and exc is not None and status_of(exc) == 429:
            self._gate.close_for(delay)
        return float(delay)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    deadline: float,
    gate: RateGate | None = None,
    breaker: Breaker | None = None,
    initial_wait: float = 1.0,
    max_wait: float = 30.0,
) -> T:
    """Run `call`, retrying what is worth retrying; re-raise the last error when out of
    tries. `deadline` bounds everything: the requests, the waits between them, and a
    Retry-After that would end past it is not waited for."""
    started = time.monotonic()
    if deadline <= 0:
        raise TimeoutError("no time left before the deadline")
    retrying = AsyncRetrying(
        retry=retry_if_exception(is_retryable),
        wait=_Wait(initial_wait, max_wait, gate),
        stop=stop_after_attempt(max_retries + 1) | stop_before_delay(deadline),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            if breaker is not None and not breaker.allow():
                raise CircuitOpen(breaker.describe())
            if gate is not None:
                await gate.wait()
            remaining = deadline - (time.monotonic() - started)
            if remaining <= 0:
                raise TimeoutError(f"deadline of {deadline:g}s reached")
            try:
                result = await asyncio.wait_for(call(), timeout=remaining)
            except Exception as exc:
                if breaker is not None:
                    if is_unreachable(exc):
                        breaker.failed()
                    elif status_of(exc) is not None:
                        breaker.answered()
                raise
            if breaker is not None:
                breaker.answered()
            return result
    raise AssertionError("unreachable: tenacity re-raises")  # pragma: no cover
