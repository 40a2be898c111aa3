"""`interviewer stats`: each topic's score over time as a chart in the terminal (plotext)."""

from __future__ import annotations

import importlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from interviewer.bank.bank import Bank
from interviewer.transcript.imports import holds_examples
from interviewer.transcript.review import turn_score
from interviewer.transcript.store import Transcripts, as_store, read_all

Series = dict[str, list[tuple[str, float]]]
MAX_TICKS = 6


def topic_series(source: Path | Transcripts, bank: Bank | None) -> Series:
    """Topic -> (day, average score of its answered questions that day), oldest first, from
    a folder of transcripts or a store. Skipped questions are left out, as in the rest of
    `stats`."""
    store = as_store(source)
    if holds_examples(store):
        return {}
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for t in read_all(store)[0]:  # the unreadable ones are named by the rest of `stats`
        for turn in t.turns:
            if not turn.skipped:
                scores[turn.topic][t.created[:10]].append(turn_score(turn, bank))
    return {
        topic: [(day, round(sum(v) / len(v), 1)) for day, v in sorted(days.items())]
        for topic, days in sorted(scores.items())
    }


def render(series: Series, width: int = 80, height: int = 16) -> str:
    """The chart as text (ANSI colours included), or "" with nothing to draw. Days with an
    answer are spaced evenly (a gap of weeks between two interviews takes no room), and at
    most MAX_TICKS of them are labelled."""
    if not series:
        return ""
    plt: Any = importlib.import_module("plotext")  # (untyped)
    plt.clear_figure()
    plt.plot_size(width, height)
    plt.theme("clear")
    days = sorted({d for points in series.values() for d, _ in points})
    place = {d: i for i, d in enumerate(days)}
    for topic, points in series.items():
        xs = [place[d] for d, _ in points]
        ys = [s for _, s in points]
        if len(points) == 1:
            plt.scatter(xs, ys, label=topic, marker="dot")
        else:
            plt.plot(xs, ys, label=topic, marker="dot")
    step = max(1, -(-len(days) // MAX_TICKS))
    ticks = list(range(0, len(days), step))
    if ticks[-1] != len(days) - 1:
        ticks[-1] = len(days) - 1
    plt.xticks(ticks, [days[i] for i in ticks])
    plt.xlim(-0.5, len(days) - 0.5)
    plt.ylim(0, 100)
    plt.title("Score per topic over time")
    return str(plt.build())
