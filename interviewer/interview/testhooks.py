"""Test-only hooks for the crash tests. Not for users; nothing here runs unless the
variables below are set.

- `INTERVIEWER_TEST_KILL_AT=POINT:N` makes the process SIGKILL itself the N-th time
  (from 1) it passes POINT. Several, comma-separated, are allowed.
- `INTERVIEWER_TEST_TRACE=1` prints `@@ POINT N` to stderr each time a point is passed.

The points are the places where something reaches the disk, so that killing just after
each of them reaches every state a crash can leave behind:

- `checkpoint`: the graph saved a checkpoint (the end of a step);
- `resume`: the graph saved the candidate's move (the value an interrupt is resumed with);
- `writes`: the graph saved a task's other writes (inside a step);
- `save`: the transcript was written (after a step, or a draft);

and `read`: plain mode is about to wait for the candidate's next line.

LangGraph saves writes on a background thread, so where `writes` falls among the others
varies from run to run; the counts of `checkpoint`, `resume` and `save` (and their order)
do not.

tests/interview/test_kill_resume.py kills at every one of them and resumes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from interviewer.interview.graph import RESUME

KILL_VAR = "INTERVIEWER_TEST_KILL_AT"
TRACE_VAR = "INTERVIEWER_TEST_TRACE"

_passed: Counter[str] = Counter()
_lock = threading.Lock()


def active() -> bool:
    return bool(os.environ.get(KILL_VAR) or os.environ.get(TRACE_VAR))


def point(name: str) -> None:
    """Mark that the process passed `name`: trace it, and die here if told to."""
    if not active():
        return
    with _lock:  # (writes are saved on another thread)
        _passed[name] += 1
        n = _passed[name]
    if os.environ.get(TRACE_VAR):
        sys.stderr.write(f"@@ {name} {n}\n")
        sys.stderr.flush()
    targets = [t.strip() for t in os.environ.get(KILL_VAR, "").split(",") if t.strip()]
    if f"{name}:{n}" in targets:
        os.kill(os.getpid(), signal.SIGKILL)


def hooked(saver: BaseCheckpointSaver[Any]) -> BaseCheckpointSaver[Any]:
    """`saver` (SQLite or PostgreSQL), passing `writes` and `checkpoint` after each save
    when the hooks are active; unchanged otherwise."""
    if not active():
        return saver
    put, put_writes = saver.put, saver.put_writes

    def hooked_put(config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        out = put(config, checkpoint, metadata, new_versions)
        point("checkpoint")
        return out

    def hooked_put_writes(
        config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        put_writes(config, writes, task_id, task_path)
        point("resume" if any(channel == RESUME for channel, _ in writes) else "writes")

    saver.put = hooked_put  # type: ignore[method-assign]
    saver.put_writes = hooked_put_writes  # type: ignore[method-assign]
    return saver
