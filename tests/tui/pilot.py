"""What the pilot tests share: waiting until the app is idle."""

from __future__ import annotations

import contextlib

from textual.pilot import Pilot
from textual.worker import WorkerFailed


async def settle(pilot: Pilot[None], *, paint: float = 0.0) -> None:
    """Workers done (a failed one too: the app shows its failure, which the test checks),
    then a pause for the last messages; `paint` waits for animations and repaints too."""
    await pilot.pause()
    with contextlib.suppress(WorkerFailed):
        await pilot.app.workers.wait_for_complete()
    if paint:
        await pilot.wait_for_scheduled_animations()
    await pilot.pause(paint or None)
