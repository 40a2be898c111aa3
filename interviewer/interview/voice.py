"""What the interviewer says. The scripted voice (offline default) fills persona templates
with the bank's questions and follow-ups; the LLM voice rephrases them in the persona's
style and falls back to the scripted voice when the model fails.

Nothing here ever sees a rubric's key points or reference answer except `hint`, which is
only used in practice mode; so in exam mode no voice can reveal them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from interviewer.bank.schema import FollowUp, Question
from interviewer.interview.personas import Persona
from interviewer.llm.loop import run_sync

log = logging.getLogger(__name__)

Emit = Callable[[str], None]


class Voice(Protocol):
    @property
    def spec(self) -> str: ...

    def say(
        self, kind: str, lang: str, turn: int, emit: Emit | None = None, **values: object
    ) -> str:
        """A persona line of `kind` (greeting, ask_first, ask_next, follow_up, ...)."""
        ...


@dataclass
class ScriptedVoice:
    persona: Persona
    spec: str = "scripted"

    def say(
        self, kind: str, lang: str, turn: int, emit: Emit | None = None, **values: object
    ) -> str:
        text = self.persona.line(kind, lang, turn, **values)
        if emit:
            emit(text)
        return text


REPHRASE = {
    "ask_first": "Open the interview by asking this question, in one or two sentences.",
    "ask_next": "Move on to this question, in one or two sentences.",
    "follow_up": "Ask this follow-up question, in one or two sentences.",
}


@dataclass
class LLMVoice:
    """Rephrases questions and follow-ups with a model, streaming its words.

    Only the question text goes to the model (never the rubric), and its output is used
    only if it is non-empty; any failure falls back to the scripted line.
    """

    persona: Persona
    provider: object  # interviewer.llm.providers.Provider
    fallback: ScriptedVoice
    timeout: float = 30.0

    @property
    def spec(self) -> str:
        return str(getattr(self.provider, "spec", "llm"))

    def say(
        self, kind: str, lang: str, turn: int, emit: Emit | None = None, **values: object
    ) -> str:
        question = values.get("q")
        if kind not in REPHRASE or not isinstance(question, str):
            return self.fallback.say(kind, lang, turn, emit, **values)
        try:
            return run_sync(self._stream(kind, lang, question, emit))
        except Exception as exc:
            log.warning("LLM interviewer failed (%s); using the scripted line", exc)
            return self.fallback.say(kind, lang, turn, emit, **values)

    async def _stream(self, kind: str, lang: str, question: str, emit: Emit | None) -> str:
        language = "Chinese" if lang == "zh" else "English"
        system = (
            f"{self.persona.style.get(lang)}\n"
            f"Speak {language}. {REPHRASE[kind]} Keep its technical meaning exactly; do not "
            "add hints, answers, key points or scores. Output only what you say."
        )
        parts: list[str] = []
        stream = self.provider.stream(system, [{"role": "user", "content": question}])  # type: ignore[attr-defined]
        async with asyncio.timeout(self.timeout):
            async for chunk in stream:
                parts.append(chunk)
                if emit:
                    emit(chunk)
        text = "".join(parts).strip()
        if not text:
            raise ValueError("empty reply")
        return text


def question_text(question: Question, lang: str) -> str:
    return question.prompt.get(lang)


def follow_up_text(follow_up: FollowUp | None, lang: str) -> str | None:
    return follow_up.get(lang) if follow_up else None
