"""The content schema: one source of truth for `questions/*.yaml` and `rubrics/*.yaml`.

A question file holds a list of questions (usually one topic); a rubric file holds the
rubric of one question. `interviewer bank schema` writes JSON Schema files from these
models so that editors can validate the YAML as it is written.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, field_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=2, max_length=80)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

Kind = Literal["concept", "project", "experience", "coding"]
Lang = Literal["zh", "en"]

_HAN = re.compile(r"[\u4e00-\u9fff]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in both languages. Both are required: the product is Chinese first, English too."""

    zh: NonEmpty = Field(description="The Chinese text.")
    en: NonEmpty = Field(description="The English text.")

    @field_validator("zh")
    @classmethod
    def _zh_has_chinese(cls, value: str) -> str:
        if not _HAN.search(value):
            raise ValueError("the zh text has no Chinese characters; write it in Chinese")
        return value

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class FollowUp(_Strict):
    """A follow-up question that probes one key point of the rubric."""

    zh: NonEmpty
    en: NonEmpty
    probes: Id = Field(description="The id of the rubric key point this follow-up probes.")
    expects: Text | None = Field(
        default=None,
        description="What a good answer to this follow-up says (numbers worked out), for judges.",
    )

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Question(_Strict):
    """One interview question."""

    id: Id = Field(description="Unique across the bank; the rubric file is rubrics/<id>.yaml.")
    topic: Id = Field(description="Topic slug, e.g. lora, rag, architecture.")
    difficulty: Literal[1, 2, 3] = Field(description="1 = junior, 2 = mid, 3 = senior.")
    kind: Kind
    prompt: Text
    follow_ups: list[FollowUp] = Field(default_factory=list)
    tags: list[NonEmpty] = Field(default_factory=list)
    inventory_ids: list[Id] = Field(
        default_factory=list,
        description="Ids from the seed inventory that this question covers (may be empty).",
    )
    related: list[Id] = Field(default_factory=list, description="Ids of related questions.")


class QuestionFile(RootModel[list[Question]]):
    """A questions/*.yaml file: a list of questions."""


class Evidence(_Strict):
    """Terms and aliases an answer covering the point would use, in both languages.

    Chinese answers often use English terms (LoRA, rank, KV cache); list those under zh too.
    """

    zh: list[NonEmpty] = Field(default_factory=list)
    en: list[NonEmpty] = Field(default_factory=list)

    def terms(self) -> list[str]:
        return [*self.zh, *self.en]


Role = Literal["asked", "bonus"]

MIN_ASKED_SHARE = 0.7
"""Key points the prompt asks carry at least this share of a rubric's weight."""


class KeyPoint(_Strict):
    """A fact a good answer states. The most important facts weigh most.

    `asked` points answer what the prompt asks; `bonus` points are depth beyond it (paper
    numbers, history, a related trick). Asked points carry most of the weight.
    """

    id: Id
    text: Text
    weight: float = Field(gt=0, le=100, description="Relative weight; scores are normalised.")
    evidence: Evidence = Field(default_factory=Evidence)
    title: Text | None = Field(
        default=None,
        description="A few words naming the subject, never the answer (follow-ups, checklist).",
    )
    role: Role = Field(
        default="asked", description="asked: the prompt asks it; bonus: depth beyond."
    )
    partial_if: Text | None = Field(
        default=None, description="What an answer states to earn half of this point."
    )


class Misconception(_Strict):
    """A wrong claim that costs points when an answer makes it."""

    id: Id
    text: Text
    penalty: float = Field(ge=0, le=100, description="Points (of 100) taken off when stated.")
    evidence: Evidence = Field(
        default_factory=Evidence, description="Phrases that signal the wrong claim."
    )
    source: str = Field(
        default="",
        description="Where the claim was seen (a seed handbook, a paper); never shown to a judge.",
    )


class Rubric(_Strict):
    """The rubric of one question: key points, misconceptions, a reference answer."""

    question_id: Id
    version: int = Field(ge=1, description="Bump when key points change; caches key on it.")
    key_points: list[KeyPoint] = Field(min_length=1)
    misconceptions: list[Misconception] = Field(default_factory=list)
    reference_answer: Text
    sources: list[NonEmpty] = Field(
        default_factory=list, description="Papers or documentation the facts come from."
    )

    def key_point(self, kp_id: str) -> KeyPoint:
        for kp in self.key_points:
            if kp.id == kp_id:
                return kp
        raise KeyError(kp_id)

    @property
    def total_weight(self) -> float:
        return sum(kp.weight for kp in self.key_points)

    @property
    def asked_share(self) -> float:
        """The share of the weight on key points the prompt asks."""
        return sum(kp.weight for kp in self.key_points if kp.role == "asked") / self.total_weight


Verdict = Literal["covered", "partial", "missed"]
AnswerKind = Literal["strong", "partial", "misconception", "off_topic", "adversarial"]


class CalibrationAnswer(_Strict):
    """An answer with the grade a strict, fair human interviewer gave it."""

    id: Id
    kind: AnswerKind
    lang: Literal["zh", "en", "mixed"]
    text: str
    human_score: float = Field(ge=0, le=100)
    verdicts: dict[str, Verdict] = Field(description="Expected verdict for every key point id.")
    misconceptions: list[Id] = Field(default_factory=list)
    note: str = ""


class CalibrationItem(_Strict):
    """Calibration answers for one question; `half` says whether judges may be tuned on it."""

    question_id: Id
    half: Literal["tune", "held"]
    answers: list[CalibrationAnswer] = Field(min_length=1)


class CalibrationFile(RootModel[list[CalibrationItem]]):
    """A calibration/*.yaml file: a list of items."""
