"""Interviewer personas, as data: interview/personas/*.yaml."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from ruamel.yaml import YAML

from interviewer.errors import InterviewerError

PERSONA_DIR = Path(__file__).with_name("personas")


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Lines(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    greeting: list[Line]
    ask_first: list[Line]
    ask_next: list[Line]
    follow_up: list[Line]  # {q}: the bank's follow-up
    # A follow-up named by the key point's {title} (never its text): missed, missed with a
    # {said} phrase of the candidate's, partial with {said}, partial without.
    probe: list[Line]
    probe_said: list[Line]
    probe_partial: list[Line]
    probe_deeper: list[Line]
    ack: list[Line]
    hint: list[Line]
    skip: list[Line]
    dont_know: list[Line]
    closing: list[Line]


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    title: Line
    style: Line
    lines: Lines

    def line(self, kind: str, lang: str, turn: int, **values: object) -> str:
        """The persona's line of a kind, varied by turn, with {placeholders} filled."""
        options: list[Line] = getattr(self.lines, kind)
        text = options[turn % len(options)].get(lang).format(**values)
        return spaced(text) if lang == "zh" and kind.startswith("probe") else text


_HAN_LATIN = re.compile(r"(?<=[\u4e00-\u9fff])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9+])(?=[\u4e00-\u9fff])")


def spaced(text: str) -> str:
    """A space between Chinese and Latin words ("那RoPE呢" -> "那 RoPE 呢")."""
    return _HAN_LATIN.sub(" ", text)


@cache
def personas() -> dict[str, Persona]:
    out = {}
    for path in sorted(PERSONA_DIR.glob("*.yaml")):
        persona = Persona.model_validate(YAML(typ="safe", pure=True).load(path.read_text("utf-8")))
        out[persona.name] = persona
    return out


def persona(name: str) -> Persona:
    try:
        return personas()[name]
    except KeyError:
        raise InterviewerError(
            f"no persona named {name!r}",
            hint=f"Personas: {', '.join(sorted(personas()))}.",
        ) from None
