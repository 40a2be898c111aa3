"""Judges: one interface, `grade(question, rubric, answer) -> Grade`, for every job.

Importing this package (or `interviewer.judge.schema`) loads no judge: the offline judge
(numpy, the sentence encoder) and the LLM judge are imported when one is made.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Protocol

from interviewer.bank.schema import Question, Rubric
from interviewer.config import JudgeSpec, Settings
from interviewer.judge.schema import Grade, Verdict

if TYPE_CHECKING:
    from interviewer.judge.offline import OfflineJudge
    from interviewer.llm.retry import RateGate

__all__ = [
    "Grade",
    "Judge",
    "Verdict",
    "cache_name",
    "check_model_spec",
    "make_judge",
    "offline_judge",
]


class Judge(Protocol):
    @property
    def spec(self) -> str: ...

    def grade(self, question: Question, rubric: Rubric, answer: str) -> Grade: ...

    async def agrade(self, question: Question, rubric: Rubric, answer: str) -> Grade: ...


@cache
def offline_judge() -> OfflineJudge:
    """The process-wide offline judge (its model is loaded once)."""
    from interviewer.judge.offline import OfflineJudge

    return OfflineJudge()


def make_judge(spec: str | JudgeSpec, settings: Settings, gate: RateGate | None = None) -> Judge:
    """A judge for a spec string such as `offline`, `openai:gpt-4o-mini`, `compatible:qwen2.5`
    or `cascade:openai:gpt-4o-mini` (offline first, the model for uncertain grades)."""
    parsed = spec if isinstance(spec, JudgeSpec) else JudgeSpec.parse(spec)
    if parsed.provider == "offline":
        return offline_judge()
    from interviewer.judge.cascade import fitted_band
    from interviewer.judge.llm import LLMJudge
    from interviewer.llm.providers import make_provider
    from interviewer.llm.retry import Breaker

    # The provider checks its key and URL here, at open, not at the first answer.
    return LLMJudge(
        provider=make_provider(parsed.model_spec, settings),
        cascade=fitted_band() if parsed.cascade else None,
        offline=offline_judge(),
        max_retries=settings.max_retries,
        deadline=settings.deadline,
        gate=gate,
        breaker=Breaker(settings.breaker_timeouts, cooldown=max(60.0, settings.deadline)),
        bounded_schema=parsed.provider == "compatible",
    )


def check_model_spec(spec: str, settings: Settings, what: str = "judge") -> None:
    """Fail now, with a clear message, if `spec` is malformed or its key or URL is missing:
    the checks `make_judge` makes, without a request and without loading any model."""
    if spec == "scripted" and what == "interviewer":
        return
    parsed = JudgeSpec.parse(spec)
    if parsed.provider == "offline":
        return
    from interviewer.llm.loop import run_sync
    from interviewer.llm.providers import make_provider

    run_sync(make_provider(parsed, settings).aclose())


def cache_name(spec: JudgeSpec, settings: Settings) -> str:
    """The name grades are cached under: an LLM judge's spec and fingerprint (spec,
    endpoint, prompt and evidence versions, package version), so that a changed judge
    never serves an older one's grades. Needs no key."""
    if spec.provider == "offline":
        return str(spec)
    from interviewer.judge.cascade import fitted_band
    from interviewer.judge.llm import fingerprint_of
    from interviewer.llm.providers import endpoint_of

    endpoint = endpoint_of(spec, settings)
    named = f"{spec}@{fitted_band().tag}" if spec.cascade else str(spec)  # as LLMJudge's
    return f"{spec}@{fingerprint_of(named, endpoint, spec.provider == 'compatible')}"
