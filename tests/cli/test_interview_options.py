"""`interviewer` in a terminal: options that shape the interview skip the set-up screen
and reach the interview (code-review item 16)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from interviewer.cli import app

runner = CliRunner()


def test_follow_ups_alone_reaches_the_interview(started: list[Any]) -> None:
    result = runner.invoke(app, ["interview", "--follow-ups", "0"])
    assert result.exit_code == 0, result.output
    assert started[0] is not None, "the set-up screen opened and dropped --follow-ups"
    assert started[0].follow_up_limit == 0


def test_focus_weak_alone_reaches_the_interview(
    started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import interviewer.transcript.history as history

    monkeypatch.setattr(history, "weak_topics", lambda folder: ["rag", "lora"])
    result = runner.invoke(app, ["interview", "--focus-weak"])
    assert result.exit_code == 0, result.output
    assert started[0] is not None, "the set-up screen opened and dropped --focus-weak"
    assert started[0].focus == ["rag", "lora"]
    assert started[0].follow_up_limit == 2


def test_no_options_open_the_set_up_screen(started: list[Any]) -> None:
    result = runner.invoke(app, ["interview"])
    assert result.exit_code == 0, result.output
    assert started == [None]


@pytest.mark.parametrize(
    "options",
    [["--due"], ["--topic", "rag", "--questions", "2"], ["--focus-weak"], ["--judge", "offline"]],
)
def test_options_that_would_be_ignored_on_resume_are_an_error(
    started: list[Any], options: list[str]
) -> None:
    result = runner.invoke(app, ["interview", "--resume", "20261201-abc", *options])
    assert result.exit_code == 2, result.output
    assert "--resume goes on with the interview as it was saved" in result.output
    for option in options:
        if option.startswith("--"):
            assert option in result.output
    assert started == [], "nothing was opened"


def test_resume_alone_opens_the_saved_interview(started: list[Any]) -> None:
    result = runner.invoke(app, ["interview", "--resume", "20261201-abc"])
    assert result.exit_code == 0, result.output
    assert started == [None]
