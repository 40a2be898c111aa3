"""Progress over time, read from saved transcripts: a folder of them, or a store (the
configured one: `open_transcripts(settings)`, the database's when database_url is set).

Scores are the reviewed ones (`review.turn_score`: overrides and regrades applied when the
bank has the rubric). Skipped questions are left out of averages and key point counts:
they say nothing about what the candidate knows.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from interviewer.bank.bank import Bank
from interviewer.transcript.imports import EXAMPLES_MARKER, holds_examples
from interviewer.transcript.review import default_bank, effective_verdicts, overall, turn_score
from interviewer.transcript.schema import Transcript
from interviewer.transcript.store import Transcripts, as_store, read_all


def _transcripts(source: Path | Transcripts) -> tuple[list[Transcript], list[str]]:
    store = as_store(source)
    if holds_examples(store):  # the repository's example interviews are nobody's progress
        return [], [f"{store.label}: example interviews ({EXAMPLES_MARKER}), never counted"]
    good, bad = read_all(store)
    good.sort(key=lambda t: (t.created, t.id))
    return good, bad


def topic_averages(source: Path | Transcripts, bank: Bank | None = None) -> dict[str, float]:
    """Average score per topic over every answered question in every transcript."""
    transcripts, _ = _transcripts(source)
    if bank is None and transcripts:
        bank = default_bank()
    return _topic_scores(transcripts, bank)[0]


def weak_topics(source: Path | Transcripts, limit: int = 5, bank: Bank | None = None) -> list[str]:
    """Topics with the lowest averages first: what `--focus-weak` favours."""
    averages = topic_averages(source, bank)
    return [t for t, _ in sorted(averages.items(), key=lambda kv: (kv[1], kv[0]))][:limit]


def _topic_scores(
    transcripts: list[Transcript], bank: Bank | None
) -> tuple[dict[str, float], dict[str, list[float]], dict[str, int]]:
    scores: dict[str, list[float]] = defaultdict(list)
    interviews: dict[str, set[str]] = defaultdict(set)
    for t in transcripts:
        for turn in t.turns:
            if not turn.skipped:
                scores[turn.topic].append(turn_score(turn, bank))
                interviews[turn.topic].add(t.id)
    averages = {k: round(sum(v) / len(v), 1) for k, v in scores.items() if v}
    return averages, scores, {k: len(v) for k, v in interviews.items()}


class TopicProgress(BaseModel):
    topic: str
    average: float
    answers: int
    interviews: int
    first: float = Field(description="Score of the first answer on the topic.")
    latest: float = Field(description="Score of the latest answer on the topic.")


class WeakPoint(BaseModel):
    question_id: str
    key_point: str
    text: str = ""
    missed: int
    partial: int
    seen: int


class InterviewPoint(BaseModel):
    id: str
    created: str
    overall: float


class Progress(BaseModel):
    interviews: int
    answers: int
    topics: list[TopicProgress] = Field(description="Weakest first.")
    weakest: list[WeakPoint] = Field(description="Missed most often first.")
    timeline: list[InterviewPoint] = Field(description="Oldest first.")
    focus: list[str] = Field(description="Suggested topics to practise (weakest averages).")
    skipped_files: list[str] = Field(default_factory=list)


def progress(source: Path | Transcripts, bank: Bank | None = None, limit: int = 10) -> Progress:
    """Per-topic averages, the key points missed most often, and the weak topics to focus on."""
    transcripts, bad = _transcripts(source)
    if bank is None and transcripts:
        bank = default_bank()
    averages, scores, interviews = _topic_scores(transcripts, bank)
    topics = [
        TopicProgress(
            topic=k,
            average=averages[k],
            answers=len(scores[k]),
            interviews=interviews[k],
            first=scores[k][0],
            latest=scores[k][-1],
        )
        for k in sorted(averages, key=lambda k: (averages[k], k))
    ]
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    lang: dict[str, str] = {}
    for t in transcripts:
        for turn in t.turns:
            if turn.skipped:
                continue
            lang[turn.question_id] = t.settings.lang
            for kp, verdict in effective_verdicts(turn).items():
                row = counts[(turn.question_id, kp)]
                row[0] += verdict == "missed"
                row[1] += verdict == "partial"
                row[2] += 1
    weakest = []
    for (qid, kp), (missed, partial, seen) in counts.items():
        if missed + partial == 0:
            continue
        weakest.append(
            WeakPoint(
                question_id=qid,
                key_point=kp,
                text=_statement(bank, qid, kp, lang.get(qid, "zh")),
                missed=missed,
                partial=partial,
                seen=seen,
            )
        )
    weakest.sort(key=lambda w: (-w.missed, -w.partial, w.question_id, w.key_point))
    timeline = []
    for t in transcripts:
        score = overall(t, bank)
        if score is not None:
            timeline.append(InterviewPoint(id=t.id, created=t.created, overall=score))
    return Progress(
        interviews=len(transcripts),
        answers=sum(len(v) for v in scores.values()),
        topics=topics,
        weakest=weakest[:limit],
        timeline=timeline,
        focus=[t.topic for t in topics][:5],
        skipped_files=bad,
    )


def _statement(bank: Bank | None, question_id: str, key_point: str, lang: str) -> str:
    rubric = bank.rubrics.get(question_id) if bank else None
    if rubric is None:
        return ""
    for kp in rubric.key_points:
        if kp.id == key_point:
            return kp.text.get(lang)
    return ""
