"""An answer sent again after a failed step is graded as sent the second time
(code-review item 19): the edits are not lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from interviewer.bank.schema import Question, Rubric
from interviewer.config import load_settings
from interviewer.interview.context import InterviewContext
from interviewer.interview.session import Session
from interviewer.judge import offline_judge
from interviewer.judge.schema import Grade
from tests.conftest import REPO


class FailsOnce:
    """The offline judge, but the first grade raises (a provider error, say)."""

    def __init__(self) -> None:
        self.inner = offline_judge()
        self.spec = self.inner.spec
        self.graded: list[str] = []
        self.failed = False

    def grade(self, question: Question, rubric: Rubric, answer: str) -> Grade:
        if not self.failed:
            self.failed = True
            raise RuntimeError("judge down")
        self.graded.append(answer)
        return self.inner.grade(question, rubric, answer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_resubmitted_answer_grades_the_edited_text(tmp_path: Path) -> None:
    settings = load_settings(bank_dir=REPO, transcripts_dir=tmp_path / "transcripts")
    ctx = InterviewContext(topics=["lora"], questions=1, follow_up_limit=0, seed=3)
    session = Session.open(settings, ctx)
    judge = FailsOnce()
    session._judges[ctx.judge] = judge  # (the session's judge_for hands this one out)
    try:
        session.start()
        with pytest.raises(RuntimeError, match="judge down"):
            session.send("answer", "first draft")
        assert session.step_in_flight()
        said = session.send("answer", "edited answer about LoRA low rank")
        assert judge.graded == ["edited answer about LoRA low rank"]
        answers = [m["text"] for m in session.values["messages"] if m["role"] == "candidate"]
        assert answers == ["edited answer about LoRA low rank"]
        assert [m["text"] for m in said if m["role"] == "candidate"] == answers
        assert session.done
        finished = session.values["finished"]
        assert [a["answer"] for a in finished[0]["attempts"]] == [answers[0]]
    finally:
        session.close()
