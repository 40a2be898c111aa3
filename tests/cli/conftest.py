from __future__ import annotations

import importlib
from typing import Any

import pytest

import interviewer.tui.app as tui_app

cli_app = importlib.import_module("interviewer.cli.app")  # (the package exports `app`, the Typer)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The context each InterviewerApp was made with (None: the set-up screen opens)."""
    seen: list[Any] = []

    class FakeApp:
        def __init__(self, settings: Any, *, ctx: Any = None, resume: Any = None) -> None:
            seen.append(ctx)

        def run(self) -> None:
            pass

    monkeypatch.setattr(cli_app, "_terminal", lambda: True)
    monkeypatch.setattr(tui_app, "InterviewerApp", FakeApp)
    return seen
