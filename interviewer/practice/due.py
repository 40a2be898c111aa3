"""What is due, and an interview made of it (`interviewer --due`).

An item counts as due when its FSRS due time is at most LEARN_AHEAD from now, as Anki's
"learn ahead limit" does: a point missed in an interview that just ended (due ten minutes
after its answer) can be practised straight away instead of waiting for the clock.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from interviewer.bank.bank import Bank
from interviewer.config import Settings
from interviewer.practice.items import (
    FileItems,
    Item,
    ItemsFile,
    ReviewItems,
    apply_transcripts,
    open_items,
)
from interviewer.transcript.imports import holds_examples
from interviewer.transcript.store import Transcripts, TranscriptStore, open_transcripts, read_all

LEARN_AHEAD = timedelta(minutes=20)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Practice:
    """Where the saved interviews and their review items are read: the configured stores
    (`of_settings`: the database when database_url is set, else the transcripts folder and
    the items file in it), or one folder's files (`of_folder`)."""

    transcripts: Transcripts
    items: ReviewItems

    @classmethod
    def of_settings(cls, settings: Settings) -> Practice:
        return cls(open_transcripts(settings), open_items(settings))

    @classmethod
    def of_folder(cls, folder: Path) -> Practice:
        return cls(TranscriptStore(folder), FileItems(folder))


def sync(practice: Practice) -> ItemsFile:
    """The items, brought up to date with every saved interview (a question saved while the
    items could not be written, or an imported interview). A folder of examples is read
    as it is, never written."""
    store = practice.transcripts
    if holds_examples(store):
        return practice.items.load()
    transcripts, _ = read_all(store)  # `interviewer stats` and `review list` name the others
    synced = ItemsFile()

    def catch_up(data: ItemsFile) -> int:
        nonlocal synced
        synced = data
        return apply_transcripts(data, transcripts)

    practice.items.update(catch_up)  # (saved only when an item changed)
    return synced


def due_items(data: ItemsFile, now: datetime, bank: Bank | None = None) -> list[Item]:
    """Items due by `now` (+ LEARN_AHEAD), most overdue first; with `bank`, only those whose
    question and key point the bank still has."""
    cutoff = now + LEARN_AHEAD
    due = [i for i in data.items.values() if i.due <= cutoff and _known(i, bank)]
    return sorted(due, key=lambda i: (i.due, i.key))


def next_due(data: ItemsFile, bank: Bank | None = None) -> datetime | None:
    dues = [i.due for i in data.items.values() if _known(i, bank)]
    return min(dues) if dues else None


def _known(item: Item, bank: Bank | None) -> bool:
    if bank is None:
        return True
    rubric = bank.rubrics.get(item.question_id)
    return rubric is not None and any(kp.id == item.key_point for kp in rubric.key_points)


def review_plan(items: list[Item], limit: int) -> dict[str, list[str]]:
    """Question id -> its due key points, the questions with the most missed points first
    (then the most overdue), at most `limit` questions. Within a question, missed points
    come before partial ones."""
    by_question: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_question[item.question_id].append(item)

    def order(qid: str) -> tuple[int, int, datetime]:
        group = by_question[qid]
        missed = sum(1 for i in group if i.last_verdict == "missed")
        return (-missed, -len(group), min(i.due for i in group))

    plan: dict[str, list[str]] = {}
    for qid in sorted(by_question, key=order)[:limit]:
        group = sorted(by_question[qid], key=lambda i: (i.last_verdict != "missed", i.due))
        plan[qid] = [i.key_point for i in group]
    return plan


class TopicDue(BaseModel):
    topic: str
    due: int
    items: int
    next_due: str | None


def due_by_topic(data: ItemsFile, now: datetime) -> list[TopicDue]:
    cutoff = now + LEARN_AHEAD
    counts: Counter[str] = Counter()
    nexts: dict[str, datetime] = {}
    totals: Counter[str] = Counter()
    for item in data.items.values():
        totals[item.topic] += 1
        if item.due <= cutoff:
            counts[item.topic] += 1
        if item.topic not in nexts or item.due < nexts[item.topic]:
            nexts[item.topic] = item.due
    return [
        TopicDue(
            topic=t,
            due=counts[t],
            items=totals[t],
            next_due=nexts[t].isoformat(timespec="minutes") if t in nexts else None,
        )
        for t in sorted(totals, key=lambda t: (-counts[t], nexts[t], t))
    ]


def when(moment: datetime, now: datetime) -> str:
    """'2026-12-05 09:30 UTC (in 14 h)': a due time for people."""
    left = moment - now
    if left <= timedelta(0):
        rel = "now"
    elif left < timedelta(hours=1):
        rel = f"in {max(1, round(left.total_seconds() / 60))} min"
    elif left < timedelta(days=2):
        rel = f"in {round(left.total_seconds() / 3600)} h"
    else:
        rel = f"in {left.days} days"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({rel})"


def plan_due(
    practice: Practice,
    bank: Bank,
    *,
    topics: list[str],
    limit: int,
    now: datetime | None = None,
) -> tuple[dict[str, list[str]], str]:
    """The `--due` interview's plan (question id -> due key points), or an empty plan and
    a message saying that nothing is due and when the next item is."""
    now = now or utcnow()
    data = sync(practice)
    wanted = set(topics)
    if wanted:
        data = data.model_copy(
            update={"items": {k: i for k, i in data.items.items() if i.topic in wanted}}
        )
    plan = review_plan(due_items(data, now, bank), limit)
    if plan:
        return plan, ""
    where = f" in {', '.join(sorted(wanted))}" if wanted else ""
    upcoming = next_due(data, bank)
    if upcoming is None:
        return {}, (
            f"No review items{where} yet. Key points you miss or half-cover in an interview "
            "become review items; once they are due, `interviewer --due` asks about them."
        )
    return {}, (
        f"Nothing is due for review{where}. The next item is due {when(upcoming, now)}; "
        "`interviewer stats` lists what is coming."
    )
