"""The fitted verdict model: features of an answer against a target in, a probability out.

A logistic regression over standardised features (`judge/features.py`), fitted by
`python -m benchmarks.fit_offline` on real graded answers (SemEval-2013 training, LE's
training split) and the calibration set's tuning half, with whole questions held out when
it is measured. Its parameters are plain JSON (`judge/data/verdict_model.json`) with their
provenance and metrics; `fingerprint` hashes them, so grades and caches know which fit
made them.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from interviewer.judge.features import NAMES

MODEL_FILE = Path(__file__).with_name("data") / "verdict_model.json"


@dataclass(frozen=True)
class VerdictModel:
    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    partial_at: float  # probability at or above which a key point is at least partial
    covered_at: float  # ... and covered
    misconception_similarity: float
    misconception_margin: float  # ... and closer to the claim than to what is right by this
    misconception_denial_lead: float  # a negation denies the claim only below this lead
    # A statement that shares none of the claim's own words (those the question does not
    # use) must be at least this close to the claim: "PRM 的数据最麻烦" is near the claim
    # "PRM needs no step labels" in tone, and says nothing of it. 0 for no such bar.
    misconception_unshared_similarity: float
    full_at: float | None  # probability that earns a point's full weight; None: by verdict
    fingerprint: str
    meta: dict[str, Any]

    def credit(self, p: float) -> float | None:
        """The share of a key point's weight a probability earns: graders give partial
        credit on a continuum, and the fitted probability ranks it better than three
        verdicts do. None (credit by verdict) for a model fitted without `full_at`."""
        if self.full_at is None:
            return None
        return round(min(1.0, p / self.full_at), 3)

    def probability(self, x: np.ndarray) -> float:
        z = float(((x - self.mean) / self.scale) @ self.weights + self.bias)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerdictModel:
        names = tuple(data["features"])
        if names != NAMES:
            raise ValueError(
                f"verdict model features {names} do not match the code's {NAMES}: refit it "
                "with `python -m benchmarks.fit_offline`"
            )
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return cls(
            names=names,
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
            partial_at=float(data["partial_at"]),
            covered_at=float(data["covered_at"]),
            misconception_similarity=float(data.get("misconception_similarity", 0.65)),
            misconception_margin=float(data.get("misconception_margin", -1.0)),
            misconception_denial_lead=float(data.get("misconception_denial_lead", 9.0)),
            misconception_unshared_similarity=float(
                data.get("misconception_unshared_similarity", 0.0)
            ),
            full_at=float(data["full_at"]) if data.get("full_at") else None,
            fingerprint=hashlib.sha256(blob).hexdigest()[:12],
            meta={k: data[k] for k in ("version", "fitted_on", "metrics") if k in data},
        )


@cache
def load_model(path: Path = MODEL_FILE) -> VerdictModel:
    return VerdictModel.from_dict(json.loads(path.read_text(encoding="utf-8")))
