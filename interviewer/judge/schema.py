"""What a judge returns: a verdict per key point with evidence, and a grade scored by our code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from interviewer.llm.types import TokenUsage

VerdictLabel = Literal["covered", "partial", "missed"]

# Flags a grade can carry. Guards set the first five; the rest come from verification,
# fallbacks and limits.
Flag = Literal[
    "empty",
    "gibberish",
    "off_topic",
    "keyword_stuffing",
    "injection",
    "unverified_evidence",
    "judge_fallback",
    "truncated",
    "hint_used",
]

CREDIT: dict[VerdictLabel, float] = {"covered": 1.0, "partial": 0.5, "missed": 0.0}
ORDER: dict[VerdictLabel, int] = {"missed": 0, "partial": 1, "covered": 2}


class Verdict(BaseModel):
    """The judge's call on one key point, with the words of the answer that support it."""

    model_config = ConfigDict(frozen=True)

    key_point: str
    verdict: VerdictLabel
    evidence: str = Field("", description="Copied verbatim from the answer; empty when missed.")
    reason: str = ""
    credit: float | None = Field(
        None,
        ge=0,
        le=1,
        description="The share of the point's weight earned, when the judge grades finer "
        "than the verdict (the offline judge's fitted probability); else the verdict's credit.",
    )

    @property
    def earned(self) -> float:
        return CREDIT[self.verdict] if self.credit is None else self.credit


class MisconceptionFound(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    evidence: str = ""
    penalty: float = 0.0


class Grade(BaseModel):
    """A graded answer. `score` (0-100) is computed from the verdicts, never taken from a model."""

    verdicts: list[Verdict]
    misconceptions: list[MisconceptionFound] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    score: float = Field(ge=0, le=100)
    judge: str = Field(
        description="The judge that graded: 'offline (fallback from X)' if X failed."
    )
    fingerprint: str = Field("", description="Hash identifying that judge's version and setup.")
    usage: TokenUsage = Field(default_factory=TokenUsage)
    latency_ms: float = 0.0
    notes: list[str] = Field(default_factory=list, description="Why flags were set.")

    def verdict(self, key_point: str) -> Verdict:
        for v in self.verdicts:
            if v.key_point == key_point:
                return v
        raise KeyError(key_point)
