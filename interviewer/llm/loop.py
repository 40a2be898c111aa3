"""One event loop, on its own thread, for synchronous calls into async SDK clients.

An async SDK client keeps connections tied to the loop that opened them, so calling
`asyncio.run` per request leaves the client on a closed loop after the first call ("Event
loop is closed" on the next). Synchronous callers (the interview graph's judge and voice)
run their coroutines here instead: one loop that lives as long as the process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="llm-loop", daemon=True).start()
            _loop = loop
        return _loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on the shared loop and wait for its result (from any thread but that one)."""
    return asyncio.run_coroutine_threadsafe(coro, _background_loop()).result()
