"""The judge's warm-up thread does not outlive the session: `close` stops it.

It was a daemon thread, and a quick /quit let the interpreter kill it inside the tokenizer's
C++ code: the process aborted ("terminate called without an active exception", exit -6).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interviewer.config import load_settings
from interviewer.interview.context import InterviewContext
from interviewer.interview.session import WARM_UP_CHUNK, Session
from interviewer.judge.offline import OfflineJudge
from tests.conftest import REPO


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    settings = load_settings(bank_dir=REPO, transcripts_dir=tmp_path / "transcripts")
    made = Session.open(settings, InterviewContext(topics=["lora"], questions=1, seed=3))
    yield made
    made.close()  # (a second close, after a test's own, does nothing more)


def test_close_stops_the_warm_up_between_rubrics(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    first_call = threading.Event()

    def prepare_all(self: OfflineJudge, pairs: list[Any]) -> dict[str, Any]:
        calls.append(len(pairs))
        first_call.set()
        session._closing.wait(timeout=30)  # still preparing when the session closes
        return {}

    monkeypatch.setattr(OfflineJudge, "warm_up", lambda self: None)
    monkeypatch.setattr(OfflineJudge, "prepare_all", prepare_all)
    session.warm_up_in_background()
    warming = session._warming
    assert warming is not None
    assert not warming.daemon  # the interpreter waits for it instead of killing it
    assert first_call.wait(timeout=30)
    session.close()
    warming.join(timeout=30)  # (`close` waits half a second; a loaded machine may need more)
    assert not warming.is_alive()
    assert len(session.bank.questions) > WARM_UP_CHUNK
    assert calls == [WARM_UP_CHUNK]  # the rest of the bank was not prepared after `close`


def test_no_warm_up_starts_after_close(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The TUI's worker may start the interview (and its warm-up) after the screen that
    owned the session closed it."""
    warmed: list[str] = []
    monkeypatch.setattr(OfflineJudge, "warm_up", lambda self: warmed.append("model"))
    session.close()
    session.warm_up_in_background()
    session.warm_up()
    assert session._warming is None
    assert warmed == []


def test_warm_up_prepares_every_rubric_when_left_to_run(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared: list[str] = []

    def prepare_all(self: OfflineJudge, pairs: list[Any]) -> dict[str, Any]:
        prepared.extend(q.id for q, _ in pairs)
        return {}

    monkeypatch.setattr(OfflineJudge, "warm_up", lambda self: None)
    monkeypatch.setattr(OfflineJudge, "prepare_all", prepare_all)
    session.warm_up()
    assert sorted(prepared) == sorted(session.bank.questions)
