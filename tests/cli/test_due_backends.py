"""`interviewer --due` and `--focus-weak` on both storage backends: the plan and the focus
come from the interviews in the configured store (the database when database_url is set),
as far as the interview's context (the TUI itself is replaced by a stand-in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner

from interviewer.cli import app
from interviewer.config import Settings
from interviewer.practice.items import open_items
from interviewer.transcript.schema import Transcript
from interviewer.transcript.store import open_transcripts
from tests.practice.helpers import transcript, turn

runner = CliRunner()


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="seconds")


def test_due_picks_the_due_item_of_the_configured_store(
    stored: Settings, started: list[Any]
) -> None:
    store = open_transcripts(stored)
    # target-modules missed two hours ago: due (one 10-minute learning step).
    store.save(transcript("20261201-090000-aaaa", turn(ago(hours=2), {"target-modules": "missed"})))
    result = runner.invoke(app, ["interview", "--due"])
    assert result.exit_code == 0, result.output
    assert "Practising 1 due key point(s) in 1 question(s)." in result.stdout
    assert len(started) == 1 and started[0] is not None
    assert started[0].review == {"lora-principle": ["target-modules"]}
    assert started[0].questions == 1
    item = open_items(stored).load().items["lora-principle/target-modules"]
    assert [r.rating for r in item.reviews] == ["again"]
    if stored.database_url:
        assert not stored.transcripts_dir.exists(), (
            "with a database nothing is written to the folder"
        )
    else:
        assert (stored.transcripts_dir / "practice" / "items.json").is_file()


def test_due_with_nothing_in_the_store_says_so(stored: Settings, started: list[Any]) -> None:
    result = runner.invoke(app, ["interview", "--due"])
    assert result.exit_code == 0, result.output
    assert "No review items yet" in result.stdout
    assert started == [], "no interview was started"


def scored(
    interview_id: str, topic: str, at: str, missed: dict[str, str], score: float
) -> Transcript:
    """A finished interview of one question of `topic`. A question the bank does not have
    is scored by its grade's score; lora-principle by its verdicts (with the bank's rubric)."""
    question = "lora-principle" if topic == "lora" else f"{topic}-made-up"
    t = turn(at, missed, question_id=question)
    t = t.model_copy(
        update={"topic": topic, "merged": t.merged.model_copy(update={"score": score})}
    )
    return transcript(interview_id, t)


def test_focus_weak_picks_the_weak_topic_of_the_configured_store(
    stored: Settings, started: list[Any]
) -> None:
    store = open_transcripts(stored)
    store.save(scored("20261201-090000-aaaa", "lora", ago(days=2), {}, 50))  # all covered
    store.save(scored("20261202-090000-bbbb", "rag", ago(days=1), {}, 20))
    result = runner.invoke(app, ["interview", "--focus-weak"])
    assert result.exit_code == 0, result.output
    assert len(started) == 1 and started[0] is not None
    assert started[0].focus == ["rag", "lora"], "the weakest topic first"
    if stored.database_url:
        assert not stored.transcripts_dir.exists(), (
            "with a database nothing is written to the folder"
        )
