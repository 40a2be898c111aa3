"""The LLM judge: a model gives verdicts and quotes; our code checks them and scores.

1. The shared guards run first. An empty, gibberish or off-topic answer is not sent at all.
   Sentences aimed at the grader, and keyword lists, are cut out before the answer is sent.
2. The provider is called with the rubric first and the fenced answer last, temperature 0,
   under our retry policy.
3. The reply is validated against the schema; a malformed reply is asked for once more.
4. Every quote is checked against the answer; a quote that is not there lowers its verdict.
5. If the provider keeps failing, or the reply stays unusable, the offline judge grades the
   answer and the grade is flagged `judge_fallback`. The user never sees an exception.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from interviewer.bank.schema import Question, Rubric
from interviewer.judge.guards import GuardReport, run_guards
from interviewer.judge.normalize import verify
from interviewer.judge.offline import OfflineJudge
from interviewer.judge.prompts import fence, reply_schema, retry_note, system_prompt
from interviewer.judge.schema import Flag, Grade, MisconceptionFound, TokenUsage, Verdict
from interviewer.judge.scoring import score
from interviewer.llm.loop import run_sync
from interviewer.llm.providers import Completion, Provider
from interviewer.llm.retry import RateGate, call_with_retries

log = logging.getLogger(__name__)


class _ReplyVerdict(BaseModel):
    verdict: Literal["covered", "partial", "missed"]
    evidence: str = ""
    reason: str = ""


class _ReplyMisconception(BaseModel):
    id: str
    evidence: str = ""


class _Reply(BaseModel):
    verdicts: dict[str, _ReplyVerdict]
    misconceptions: list[_ReplyMisconception] = []


class ReplyError(Exception):
    """The model's reply is not JSON, or does not match the schema."""


GuardRunner = Callable[[Question, Rubric, str], Awaitable[GuardReport]]


@dataclass
class LLMJudge:
    provider: Provider
    offline: OfflineJudge
    max_retries: int = 4
    deadline: float = 180.0
    gate: RateGate | None = None
    bounded_schema: bool = False
    retry_wait: float = 1.0  # first back-off in seconds; doubles each retry, with jitter
    # Where the guards run: a thread by default; batch grading passes a process pool's
    # runner so that their CPU work does not hold up the requests in flight.
    guard_runner: GuardRunner | None = None
    last_finish_reason: str = field(default="", init=False)

    @property
    def spec(self) -> str:
        return self.provider.spec

    def grade(self, question: Question, rubric: Rubric, answer: str) -> Grade:
        # Not asyncio.run: the SDK client must stay on one loop across calls.
        return run_sync(self.agrade(question, rubric, answer))

    async def agrade(self, question: Question, rubric: Rubric, answer: str) -> Grade:
        started = time.perf_counter()
        if self.guard_runner is not None:
            report = await self.guard_runner(question, rubric, answer)
        else:
            report = await asyncio.to_thread(
                run_guards, question, rubric, answer, self.offline.encoder
            )
        if report.blocked:
            missed = [Verdict(key_point=kp.id, verdict="missed") for kp in rubric.key_points]
            return self._grade(rubric, missed, [], report, TokenUsage(), started, [])
        sent = _redacted(answer, report)
        usage = TokenUsage()
        try:
            reply, usage = await self._ask(question, rubric, sent)
        except Exception as exc:
            return await self._fallback(question, rubric, answer, exc, usage, started)
        flags: list[Flag] = []
        verdicts: list[Verdict] = []
        for kp in rubric.key_points:
            got = reply.verdicts.get(kp.id)
            if got is None:
                verdicts.append(Verdict(key_point=kp.id, verdict="missed", reason="not graded"))
                continue
            label, verified = verify(got.evidence, sent, got.verdict)
            if not verified:
                flags.append("unverified_evidence")
            verdicts.append(
                Verdict(
                    key_point=kp.id,
                    verdict=label,
                    evidence=got.evidence if label != "missed" else "",
                    reason=got.reason
                    if verified
                    else f"quote not found in the answer; {got.reason}",
                )
            )
        found = self._misconceptions(rubric, reply, sent)
        return self._grade(rubric, verdicts, found, report, usage, started, flags)

    async def _ask(
        self, question: Question, rubric: Rubric, answer: str
    ) -> tuple[_Reply, TokenUsage]:
        system = system_prompt(question, rubric)
        user = fence(answer)
        schema = reply_schema(rubric, bounded=self.bounded_schema)
        usage = TokenUsage()
        notes: list[str] = []
        for attempt in range(2):
            completion: Completion = await call_with_retries(
                partial(self.provider.structured, system, user, schema, "record_grade", notes),
                max_retries=self.max_retries,
                deadline=self.deadline,
                gate=self.gate,
                initial_wait=self.retry_wait,
            )
            usage = usage + completion.usage
            self.last_finish_reason = completion.finish_reason
            try:
                return _parse(completion, rubric), usage
            except ReplyError as exc:
                if attempt == 1:
                    raise
                log.info("%s: unusable reply (%s); asking once more", self.spec, exc)
                notes = [retry_note(str(exc))]
        raise AssertionError("unreachable")

    def _misconceptions(
        self, rubric: Rubric, reply: _Reply, answer: str
    ) -> list[MisconceptionFound]:
        penalties = {mc.id: mc.penalty for mc in rubric.misconceptions}
        found: dict[str, MisconceptionFound] = {}
        for item in reply.misconceptions:
            if item.id not in penalties or item.id in found:
                continue
            _, verified = verify(item.evidence, answer, "covered")
            if verified:
                found[item.id] = MisconceptionFound(
                    id=item.id, evidence=item.evidence, penalty=penalties[item.id]
                )
        return list(found.values())

    async def _fallback(
        self,
        question: Question,
        rubric: Rubric,
        answer: str,
        exc: BaseException,
        usage: TokenUsage,
        started: float,
    ) -> Grade:
        reason = _describe(exc)
        log.warning("%s failed (%s); graded offline instead", self.spec, reason)
        grade = await asyncio.to_thread(self.offline.grade, question, rubric, answer)
        return grade.model_copy(
            update={
                "flags": [*grade.flags, "judge_fallback"],
                "notes": [*grade.notes, f"{self.spec} failed ({reason}); graded offline"],
                "judge": f"{self.offline.spec} (fallback from {self.spec})",
                "usage": usage,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            }
        )

    def _grade(
        self,
        rubric: Rubric,
        verdicts: list[Verdict],
        found: list[MisconceptionFound],
        report: GuardReport,
        usage: TokenUsage,
        started: float,
        extra_flags: list[Flag],
    ) -> Grade:
        flags = list(report.flags)
        for f in extra_flags:
            if f not in flags:
                flags.append(f)
        return Grade(
            verdicts=verdicts,
            misconceptions=found,
            flags=flags,
            notes=list(report.notes),
            score=score(rubric, verdicts, found),
            judge=self.spec,
            usage=usage,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def _redacted(answer: str, report: GuardReport) -> str:
    """The answer with sentences the guards blocked replaced by a marker."""
    usable = {(u.start, u.end) for u in report.usable}
    out, last = [], 0
    for unit in report.units:
        if unit.kind != "sentence":
            continue
        inside = any(unit.start <= s and e <= unit.end for s, e in usable)
        if not inside:
            out.append(answer[last : unit.start])
            out.append("[removed by the guards]")
            last = unit.end
    out.append(answer[last:])
    return "".join(out)


def _parse(completion: Completion, rubric: Rubric) -> _Reply:
    data: Any = completion.data
    if data is None:
        text = completion.text.strip()
        if text.startswith("```"):
            text = text.strip("`").removeprefix("json").strip()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReplyError(f"not JSON ({exc.msg} at char {exc.pos})") from None
    try:
        reply = _Reply.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ReplyError(f"does not match the schema ({where}: {first['msg']})") from None
    missing = [kp.id for kp in rubric.key_points if kp.id not in reply.verdicts]
    if missing:
        raise ReplyError(f"no verdict for key points {missing}")
    return reply


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    return f"{name} {status}" if status else f"{name}: {str(exc)[:120]}"
