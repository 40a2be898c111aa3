"""Review items: verdict -> FSRS rating, scheduling with fixed dates, the store on disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Rating, State

from interviewer.errors import InterviewerError
from interviewer.practice.items import (
    ITEMS_FILE,
    ItemsFile,
    apply_transcripts,
    load_items,
    rating_for,
    record,
)
from interviewer.transcript.store import TranscriptStore
from tests.practice.helpers import transcript, turn

MON = "2026-12-07T09:00:00+00:00"


def utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(UTC)


def test_ratings_follow_the_verdicts() -> None:
    t = turn(
        MON,
        first={"frozen-base": "missed", "init-scaling": "missed", "target-modules": "partial"},
        merged={"frozen-base": "missed", "target-modules": "partial"},  # init covered later
        hinted=["merge-no-latency"],
    )
    assert rating_for(t, "frozen-base", "missed") == Rating.Again
    assert rating_for(t, "target-modules", "partial") == Rating.Hard
    assert rating_for(t, "init-scaling", "covered") == Rating.Hard  # only after a follow-up
    assert rating_for(t, "merge-no-latency", "covered") == Rating.Hard  # hinted
    assert rating_for(t, "low-rank-update", "covered") == Rating.Good


def test_a_miss_creates_an_item_due_ten_minutes_after_the_answer() -> None:
    data = ItemsFile()
    t = transcript("i1", turn(MON, {"frozen-base": "missed", "init-scaling": "partial"}))
    assert apply_transcripts(data, [t]) == 2
    assert set(data.items) == {"lora-principle/frozen-base", "lora-principle/init-scaling"}
    missed = data.items["lora-principle/frozen-base"]
    assert missed.due == utc(MON) + timedelta(minutes=10)
    assert missed.reviews[0].rating == "again"
    partial = data.items["lora-principle/init-scaling"]
    assert partial.due == utc(MON) + timedelta(minutes=15)  # Hard: 1.5 x the step
    assert partial.reviews[0].rating == "hard"


def test_applying_twice_changes_nothing() -> None:
    data = ItemsFile()
    t = transcript("i1", turn(MON, {"frozen-base": "missed"}))
    apply_transcripts(data, [t])
    before = data.model_dump()
    assert apply_transcripts(data, [t]) == 0
    assert data.model_dump() == before


def test_covered_later_is_good_and_pushes_the_item_out_by_days() -> None:
    data = ItemsFile()
    apply_transcripts(data, [transcript("i1", turn(MON, {"frozen-base": "missed"}))])
    tue = "2026-12-08T09:00:00+00:00"
    apply_transcripts(data, [transcript("i2", turn(tue, {}))])  # everything covered
    item = data.items["lora-principle/frozen-base"]
    assert [r.rating for r in item.reviews] == ["again", "good"]
    card = item.fsrs_card()
    assert card.state == State.Review
    assert item.due >= utc(tue) + timedelta(days=1)
    # A point covered at once and never missed makes no item.
    assert "lora-principle/low-rank-update" not in data.items


def test_missed_again_comes_back_sooner_than_covered() -> None:
    def after(verdict: str) -> datetime:
        data = ItemsFile()
        apply_transcripts(data, [transcript("i1", turn(MON, {"frozen-base": "missed"}))])
        apply_transcripts(data, [transcript("i2", turn("2026-12-08T09:00:00+00:00", {}))])
        later = "2026-12-12T09:00:00+00:00"
        apply_transcripts(data, [transcript("i3", turn(later, {"frozen-base": verdict}))])
        return data.items["lora-principle/frozen-base"].due

    assert after("missed") < after("partial") < after("covered")


def test_skipped_questions_and_older_interviews_are_not_reviews() -> None:
    data = ItemsFile()
    apply_transcripts(data, [transcript("i1", turn(MON, {"frozen-base": "missed"}))])
    due = data.items["lora-principle/frozen-base"].due
    skipped = turn("2026-12-08T09:00:00+00:00", {"frozen-base": "missed"}, skipped=True)
    older = turn("2026-12-01T09:00:00+00:00", {})
    apply_transcripts(data, [transcript("i2", skipped), transcript("i0", older)])
    item = data.items["lora-principle/frozen-base"]
    assert item.due == due and len(item.reviews) == 1


def test_record_writes_the_file_next_to_the_transcripts(tmp_path: Path) -> None:
    t = transcript("20261207-090000-abcd", turn(MON, {"frozen-base": "missed"}))
    TranscriptStore(tmp_path).save(t)
    assert record(tmp_path, t) == 1
    saved = json.loads((tmp_path / ITEMS_FILE).read_text(encoding="utf-8"))
    assert list(saved["items"]) == ["lora-principle/frozen-base"]
    assert (tmp_path / ITEMS_FILE).stat().st_mode & 0o777 == 0o600
    assert TranscriptStore(tmp_path).ids() == ["20261207-090000-abcd"]  # not a transcript
    assert load_items(tmp_path).items["lora-principle/frozen-base"].reviews[0].verdict == "missed"


def test_a_damaged_file_is_named_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / ITEMS_FILE
    path.parent.mkdir()
    path.write_text('{"items": {"x": ', encoding="utf-8")
    t = transcript("i1", turn(MON, {"frozen-base": "missed"}))
    with pytest.raises(InterviewerError) as err:
        record(tmp_path, t)
    assert str(path) in str(err.value)
    assert path.read_text(encoding="utf-8") == '{"items": {"x": '
