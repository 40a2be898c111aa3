"""Review items: one per key point a candidate missed or half-covered, scheduled with FSRS.

The items live in one JSON file next to the transcripts (`practice/items.json` in the
transcripts folder: a subfolder, so that nothing listing the transcripts' *.json sees it),
written with `atomic_write`. A file that cannot be read is never overwritten: loading it raises an
error that names it, and nothing is saved until it is fixed or moved away.

Each finished question of a saved interview is applied once (`applied` remembers
"interview:question"), at the time of its last answer, so applying is idempotent and the
same transcripts always give the same schedule. How a question's grade becomes a rating,
per key point (`rating_for`):

- missed (after every follow-up) -> Again: the candidate could not recall it;
- partial -> Hard: recalled with serious difficulty;
- covered, but only after a follow-up asked about it or a hint gave it away -> Hard: the
  interviewer had to prompt it, which is recall with serious difficulty, not a free one;
- covered in the first answer, unaided -> Good: recalled. Never Easy: a grader cannot
  tell an easy recall from a hesitant one.

Only Again and Hard create an item; Good reviews an item that exists (a point covered
later) and creates none. Skipped questions are not applied: a skip says nothing about what
the candidate knows, and the item stays due.

The scheduler has one 10-minute learning step (and relearning step) and no fuzzing: a
missed point comes back later the same day, then at FSRS's day intervals; no fuzz keeps
the schedule reproducible.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from fsrs import Card, Rating, Scheduler, State
from pydantic import BaseModel, Field, ValidationError

from interviewer.config import Settings
from interviewer.errors import InterviewerError
from interviewer.fsutil import atomic_write, private_dir
from interviewer.transcript.review import effective_verdicts
from interviewer.transcript.schema import Transcript, Turn

ITEMS_FILE = "practice/items.json"
STEP = timedelta(minutes=10)
SCHEDULER = Scheduler(learning_steps=(STEP,), relearning_steps=(STEP,), enable_fuzzing=False)
RATING_NAMES = {Rating.Again: "again", Rating.Hard: "hard", Rating.Good: "good"}


class Review(BaseModel):
    """One time an item was rated."""

    at: str = Field(description="ISO time, UTC: the question's last answer.")
    interview_id: str
    verdict: str = Field(description="covered, partial or missed (after follow-ups).")
    rating: str = Field(description="again, hard or good (FSRS).")


class Item(BaseModel):
    """A key point to practise again."""

    question_id: str
    key_point: str
    topic: str
    card: dict[str, object] = Field(description="The FSRS card (fsrs.Card.to_dict()).")
    reviews: list[Review] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return item_key(self.question_id, self.key_point)

    def fsrs_card(self) -> Card:
        return Card.from_dict(self.card)  # type: ignore[arg-type]

    @property
    def due(self) -> datetime:
        return self.fsrs_card().due

    @property
    def last_verdict(self) -> str:
        return self.reviews[-1].verdict if self.reviews else "missed"


class ItemsFile(BaseModel):
    version: int = 1
    items: dict[str, Item] = Field(default_factory=dict, description="By 'question/key point'.")
    applied: list[str] = Field(
        default_factory=list, description="'interview:question' already applied."
    )


def item_key(question_id: str, key_point: str) -> str:
    return f"{question_id}/{key_point}"


def items_path(transcripts_dir: Path) -> Path:
    return transcripts_dir / ITEMS_FILE


def load_items(transcripts_dir: Path) -> ItemsFile:
    """The items in `transcripts_dir` (none when the file does not exist yet)."""
    path = items_path(transcripts_dir)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ItemsFile()
    except OSError as exc:
        raise InterviewerError(f"{path}: cannot read the review items ({exc})") from None
    try:
        return ItemsFile.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        detail = str(exc).splitlines()[0]
        raise InterviewerError(
            f"{path}: not a valid review-items file ({detail})",
            hint="It is left as it is. Move it away (a new one is started from your saved "
            "interviews) or fix it; nothing is written over it until then.",
        ) from None


def save_items(transcripts_dir: Path, data: ItemsFile) -> Path:
    path = items_path(transcripts_dir)
    private_dir(path.parent)
    return atomic_write(items_path(transcripts_dir), data.model_dump_json(indent=2))


def rating_for(turn: Turn, key_point: str, verdict: str) -> Rating:
    """The FSRS rating of one key point of a finished question (see the module doc)."""
    if verdict == "missed":
        return Rating.Again
    if verdict == "partial":
        return Rating.Hard
    first = turn.attempts[0].grade.verdicts if turn.attempts else []
    unaided = any(v.key_point == key_point and v.verdict == "covered" for v in first)
    if not unaided or key_point in turn.hinted:
        return Rating.Hard
    return Rating.Good


def _utc(stamp: str) -> datetime:
    when = datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def turn_time(transcript: Transcript, turn: Turn) -> datetime:
    return _utc(turn.attempts[-1].at if turn.attempts else transcript.updated)


def apply_turn(data: ItemsFile, transcript: Transcript, turn: Turn) -> int:
    """Rate every key point of `turn` and update the items; returns how many changed."""
    done = f"{transcript.id}:{turn.question_id}"
    if done in data.applied or turn.skipped:
        return 0
    data.applied.append(done)
    when = turn_time(transcript, turn)
    changed = 0
    for key_point, verdict in effective_verdicts(turn).items():
        rating = rating_for(turn, key_point, verdict)
        key = item_key(turn.question_id, key_point)
        item = data.items.get(key)
        if item is None:
            if rating == Rating.Good:
                continue  # known, never missed: nothing to practise
            card = Card(card_id=len(data.items) + 1, due=when)
            item = Item(
                question_id=turn.question_id, key_point=key_point, topic=turn.topic, card={}
            )
        else:
            card = item.fsrs_card()
            if card.last_review is not None and when < card.last_review:
                continue  # older than its last review (an imported interview): FSRS needs order
        card, _log = SCHEDULER.review_card(card, rating, review_datetime=when)
        item.card = dict(card.to_dict())
        item.reviews.append(
            Review(
                at=when.isoformat(timespec="seconds"),
                interview_id=transcript.id,
                verdict=verdict,
                rating=RATING_NAMES[rating],
            )
        )
        data.items[key] = item
        changed += 1
    return changed


def apply_transcripts(data: ItemsFile, transcripts: list[Transcript]) -> int:
    """Apply every finished question not applied yet, oldest first."""
    turns = [(turn_time(t, turn), t, turn) for t in transcripts for turn in t.turns]
    turns.sort(key=lambda x: (x[0], x[1].id))
    return sum(apply_turn(data, t, turn) for _, t, turn in turns)


def record(transcripts_dir: Path, transcript: Transcript) -> int:
    """Update the items from a saved interview (its finished questions not applied yet)."""
    return FileItems(transcripts_dir).record(transcript)


def fresh_turns(data: ItemsFile, transcript: Transcript) -> list[Turn]:
    return [t for t in transcript.turns if f"{transcript.id}:{t.question_id}" not in data.applied]


class ReviewItems(Protocol):
    """Where the review items live: a file beside the transcripts (FileItems, the default)
    or a PostgreSQL row (interviewer.practice.pgitems.PgItems)."""

    where: str  # for messages

    def load(self) -> ItemsFile: ...

    def update(self, change: Callable[[ItemsFile], int]) -> int:
        """Load the items, apply `change` (it returns how many items it changed) and save
        them when it changed any, as one step: with PostgreSQL, two processes updating at
        once do not lose each other's changes."""
        ...

    def record(self, transcript: Transcript) -> int:
        """Update the items from a saved interview (its finished questions not applied
        yet); returns how many items changed."""
        ...


class FileItems:
    def __init__(self, transcripts_dir: Path) -> None:
        self.transcripts_dir = transcripts_dir
        self.where = str(items_path(transcripts_dir))

    def load(self) -> ItemsFile:
        return load_items(self.transcripts_dir)

    def update(self, change: Callable[[ItemsFile], int]) -> int:
        data = self.load()
        changed = change(data)
        if changed:
            save_items(self.transcripts_dir, data)
        return changed

    def record(self, transcript: Transcript) -> int:
        data = self.load()
        if not fresh_turns(data, transcript):
            return 0  # (nothing to write: the file is not touched)
        changed = apply_transcripts(data, [transcript])
        save_items(self.transcripts_dir, data)
        return changed


def open_items(settings: Settings) -> ReviewItems:
    """The review items `settings` name: PostgreSQL when database_url is set, else the file
    in the transcripts folder."""
    if settings.database_url:
        from interviewer.practice.pgitems import PgItems

        return PgItems(settings.database_url)
    return FileItems(settings.transcripts_dir)


def is_learning(item: Item) -> bool:
    return item.fsrs_card().state in (State.Learning, State.Relearning)
