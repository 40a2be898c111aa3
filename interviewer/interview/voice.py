"""What the interviewer says. The scripted voice (offline default) fills persona templates
with the bank's questions and follow-ups; the LLM voice rephrases them in the persona's
style and falls back to the scripted voice when the model fails.

Nothing here ever sees a rubric's key points or reference answer except `hint`, which is
only used in practice mode; so in exam mode no voice can reveal them. A follow-up named by
a key point (the `probe*` kinds, interview/gap.py) gets only the point's short title and id
as its topic, and a phrase the candidate said; never its text, evidence or reference.
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
PROBE = {
    "probe": "their answer did not cover",
    "probe_said": "their answer did not cover",
    "probe_partial": "their answer covered only in part",
    "probe_deeper": "their answer covered only in part",
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
        if kind in PROBE:
            prompt = probe_prompt(self.persona, kind, lang, values)
        elif kind in REPHRASE and isinstance(values.get("q"), str):
            prompt = rephrase_prompt(self.persona, kind, lang, str(values["q"]))
        else:
            return self.fallback.say(kind, lang, turn, emit, **values)
        try:
            return run_sync(self._stream(*prompt, emit))
        except Exception as exc:
            log.warning("LLM interviewer failed (%s); using the scripted line", exc)
            return self.fallback.say(kind, lang, turn, emit, **values)

    async def _stream(self, system: str, user: str, emit: Emit | None) -> str:
        parts: list[str] = []
        stream = self.provider.stream(system, [{"role": "user", "content": user}])  # type: ignore[attr-defined]
        async with asyncio.timeout(self.timeout):
            async for chunk in stream:
                parts.append(chunk)
                if emit:
                    emit(chunk)
        text = "".join(parts).strip()
        if not text:
            raise ValueError("empty reply")
        return text


def rephrase_prompt(persona: Persona, kind: str, lang: str, question: str) -> tuple[str, str]:
    """The system prompt and user message to rephrase a question or written follow-up."""
    language = "Chinese" if lang == "zh" else "English"
    system = (
        f"{persona.style.get(lang)}\n"
        f"Speak {language}. {REPHRASE[kind]} Keep its technical meaning exactly; do not "
        "add hints, answers, key points or scores. Output only what you say."
    )
    return system, question


def probe_prompt(
    persona: Persona, kind: str, lang: str, values: dict[str, object]
) -> tuple[str, str]:
    """The system prompt and user message for a follow-up about one key point.

    The model gets the point's title and id as the topic to probe, the interview question,
    and a phrase the candidate said: nothing that states the answer.
    """
    language = "Chinese" if lang == "zh" else "English"
    said = str(values.get("said") or "")
    echo = f" You may start from what the candidate said: «{said}»." if said else ""
    system = (
        f"{persona.style.get(lang)}\n"
        f"Speak {language}. Ask the candidate one short follow-up question, in one or two "
        f"sentences, about a topic of the interview question that {PROBE[kind]}: "
        f"«{values.get('title')}» (key point id `{values.get('topic')}`, for reference only; "
        f"never say the id).{echo} Name the topic in your own words; do not state, explain "
        "or hint at its answer, and do not add other topics, answers or scores. Output only "
        "what you say."
    )
    return system, str(values.get("question") or values.get("title"))


def question_text(question: Question, lang: str) -> str:
    return question.prompt.get(lang)


def follow_up_text(follow_up: FollowUp | None, lang: str) -> str | None:
    return follow_up.get(lang) if follow_up else None
