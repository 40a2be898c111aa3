"""Cascade grading: the offline judge grades every answer first, and only answers whose
offline score falls in the band where it is often wrong go to the model.

The band is fitted on the calibration set's tuning half (`python -m benchmarks.fit_cascade`)
and kept with its provenance in `judge/data/cascade_band.json`: the narrowest band of
offline scores such that, of the answers outside it, at most `max_bad_share` are off the
human grade by more than `tolerance` points. `interviewer eval` prints it and what it
would send on the set measured.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

BAND_FILE = Path(__file__).with_name("data") / "cascade_band.json"
STEP = 5  # band edges are multiples of 5 points


class CascadeBand(BaseModel):
    """Offline scores in [low, high) are uncertain: those answers go to the model."""

    low: float = Field(ge=0, le=100)
    high: float = Field(ge=0, le=101)  # 101: a score of 100 is uncertain too
    tolerance: float = 15.0
    max_bad_share: float = 0.08
    meta: dict[str, Any] = Field(default_factory=dict)

    def uncertain(self, offline_score: float) -> bool:
        return self.low <= offline_score < self.high

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g})"

    @property
    def tag(self) -> str:
        """What a grade's fingerprint carries of the band."""
        return f"{self.low:g}-{self.high:g}"


class BandFigures(BaseModel):
    """What a band does on a set of (offline score, human score) pairs."""

    answers: int
    sent_share: float  # sent to the model
    kept_bad_share: float  # of the answers kept offline: off by more than the tolerance
    kept_mae: float  # ... and their mean absolute error
    offline_bad_share: float  # the same for the offline judge alone, on every answer
    offline_mae: float


def figures(band: CascadeBand, pairs: Sequence[tuple[float, float]]) -> BandFigures:
    """The share `band` sends to the model, and how far the answers it keeps are off."""
    kept = [(s, h) for s, h in pairs if not band.uncertain(s)]

    def bad(rows: Sequence[tuple[float, float]]) -> float:
        return sum(1 for s, h in rows if abs(s - h) > band.tolerance) / max(1, len(rows))

    def mae(rows: Sequence[tuple[float, float]]) -> float:
        return sum(abs(s - h) for s, h in rows) / max(1, len(rows))

    return BandFigures(
        answers=len(pairs),
        sent_share=round(1 - len(kept) / max(1, len(pairs)), 4),
        kept_bad_share=round(bad(kept), 4),
        kept_mae=round(mae(kept), 2),
        offline_bad_share=round(bad(pairs), 4),
        offline_mae=round(mae(pairs), 2),
    )


def fit_band(
    pairs: Sequence[tuple[float, float]], tolerance: float = 15.0, max_bad_share: float = 0.08
) -> CascadeBand:
    """The narrowest-in-effect band (fewest answers sent; then the narrowest) whose kept
    answers are off by more than `tolerance` at most `max_bad_share` of the time.
    `pairs` are (offline score, human score)."""
    best: tuple[float, float, CascadeBand] | None = None
    edges = range(0, 101, STEP)
    for low in edges:
        for high in (*edges, 101):  # [0, 101) sends every answer: always allowed
            if high < low:
                continue
            band = CascadeBand(low=low, high=high, tolerance=tolerance, max_bad_share=max_bad_share)
            got = figures(band, pairs)
            if got.kept_bad_share > max_bad_share:
                continue
            key = (got.sent_share, high - low)
            if best is None or key < best[:2]:
                best = (*key, band)
    assert best is not None
    return best[2]


@cache
def fitted_band(path: Path = BAND_FILE) -> CascadeBand:
    """The band shipped with the package."""
    return CascadeBand.model_validate(json.loads(path.read_text(encoding="utf-8")))
