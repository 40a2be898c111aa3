"""The LLM judge: a model gives verdicts and quotes; our code checks them and scores.

1. The shared guards run first. An empty, gibberish or off-topic answer is not sent at all.
   Sentences aimed at the grader, and keyword lists, are cut out before the answer is sent.
2. The provider is called with the rubric first and the fenced answer last, temperature 0,
   under our retry policy. One deadline bounds the whole grade (every request, retry and
   wait), and a breaker shared by every grade stops asking an endpoint that keeps timing
   out.
3. The reply is validated against the schema; a malformed reply is asked for once more.
4. Every quote is checked against the candidate's own words (`interviewer.judge.evidence`);
   a quote that does not prove its verdict is dropped and the verdict becomes missed.
5. If the provider keeps failing, or the reply stays unusable, the offline judge grades the
   answer; the grade is flagged `judge_fallback` and its `judge` names the offline judge
   ("offline (fallback from openai:...)"). The user never sees an exception, and callers
   that must not accept such grades (batch grading) can tell them apart.

With a cascade band (`--judge cascade:PROVIDER:MODEL`, `interviewer.judge.cascade`), the
offline judge grades first, and only answers whose offline score is in the band where it is
often wrong go through steps 1-5; the others keep their offline grade, noted as such.

`preflight()` makes one cheap call first, so a wrong key, model or URL is a clear error
before anything is graded, not a batch of silent fallbacks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

import interviewer
from interviewer.bank.schema import Question, Rubric
from interviewer.errors import ConfigError, InterviewerError
from interviewer.judge.cascade import CascadeBand
from interviewer.judge.evidence import EVIDENCE_VERSION, EvidenceChecker, Target
from interviewer.judge.guards import GuardReport, run_guards
from interviewer.judge.offline import OfflineJudge
from interviewer.judge.prepared import PreparedAnswer
from interviewer.judge.prompts import (
    PROMPT_VERSION,
    fence,
    reply_schema,
    retry_note,
    system_prompt,
)
from interviewer.judge.schema import Flag, Grade, MisconceptionFound, Verdict
from interviewer.judge.scoring import score
from interviewer.llm.loop import run_sync
from interviewer.llm.providers import Provider
from interviewer.llm.retry import Breaker, CircuitOpen, RateGate, call_with_retries, status_of
from interviewer.llm.types import Completion, TokenUsage

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


class JudgeUnavailable(InterviewerError):
    """The preflight call failed for a reason other than the key, the model or the URL:
    the server is down, overloaded or too slow. Grading now would mostly fall back."""


def fingerprint_of(spec: str, endpoint: str, bounded_schema: bool) -> str:
    """What identifies an LLM judge's grades: spec (provider and model), endpoint, prompt
    and evidence-rule versions, package version. 12 hex digits of their sha256."""
    h = hashlib.sha256()
    parts = (spec, endpoint, PROMPT_VERSION, EVIDENCE_VERSION, interviewer.__version__)
    for part in (*parts, str(bounded_schema)):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:12]


@dataclass(frozen=True)
class Request:
    """One structured request: system prompt (instructions + rubric), the fenced answer,
    and the JSON schema of the reply."""

    system: str
    user: str
    schema: dict[str, Any]


GuardRunner = Callable[[Question, Rubric, str], Awaitable[GuardReport]]
GradeRunner = Callable[[Question, Rubric, str], Awaitable[Grade]]


@dataclass
class LLMJudge:
    provider: Provider
    offline: OfflineJudge
    max_retries: int = 4
    deadline: float = 60.0  # seconds for one grade: every request, retry and wait
    gate: RateGate | None = None
    breaker: Breaker | None = None
    bounded_schema: bool = False
    retry_wait: float = 1.0  # first back-off in seconds; doubles each retry, with jitter
    # Where the guards run: a thread by default; batch grading passes a process pool's
    # runner so that their CPU work does not hold up the requests in flight.
    guard_runner: GuardRunner | None = None
    # A cascade: answers whose offline grade is outside this band keep it. Where the
    # offline first pass runs: a thread by default; batch grading passes its process pool.
    cascade: CascadeBand | None = None
    offline_runner: GradeRunner | None = None
    last_finish_reason: str = field(default="", init=False)
    sent: int = field(default=0, init=False)  # cascade: answers sent to the model ...
    kept: int = field(default=0, init=False)  # ... and answers that kept the offline grade

    @property
    def spec(self) -> str:
        return f"cascade:{self.provider.spec}" if self.cascade else self.provider.spec

    @property
    def fingerprint(self) -> str:
        spec = f"{self.spec}@{self.cascade.tag}" if self.cascade else self.spec
        return fingerprint_of(spec, self.provider.endpoint, self.bounded_schema)

    async def preflight(self) -> None:
        """One cheap call (a one-token request): 401, 403 and 404 become a ConfigError
        that says what to fix; no answer at all, or 429/5xx after the usual retries,
        becomes JudgeUnavailable. A 400 passes: the key and model were accepted, and the
        real requests have their own ways around a refused parameter."""
        try:
            await call_with_retries(
                self.provider.ping,
                max_retries=min(self.max_retries, 2),
                deadline=min(self.deadline, 30.0),
                gate=self.gate,
                initial_wait=self.retry_wait,
            )
        except Exception as exc:
            status = status_of(exc)
            if status == 400:
                log.info("%s: preflight got 400 (%s); going on", self.spec, exc)
                return
            raise _preflight_error(self.spec, self.provider.endpoint, exc, status) from None

    def check(self) -> None:
        """`preflight` for synchronous callers (on the loop that `grade` uses)."""
        run_sync(self.preflight())

    async def aclose(self) -> None:
        await self.provider.aclose()

    def close(self) -> None:
        run_sync(self.aclose())

    def grade(self, question: Question, rubric: Rubric, answer: str | PreparedAnswer) -> Grade:
        # Not asyncio.run: the SDK client must stay on one loop across calls.
        return run_sync(self.agrade(question, rubric, answer))

    async def agrade(
        self, question: Question, rubric: Rubric, answer: str | PreparedAnswer
    ) -> Grade:
        # Prepared once: the offline first pass, the guards' units, the text sent, the
        # evidence check and a fallback grade all read this one answer (a runner in another
        # process prepares the same text the same way).
        prepared = PreparedAnswer.of(answer)
        if self.cascade is not None:
            kept = await self.cascade_kept(question, rubric, prepared)
            if kept is not None:
                return kept
        return await self._model_grade(question, rubric, prepared)

    async def cascade_kept(
        self, question: Question, rubric: Rubric, answer: str | PreparedAnswer
    ) -> Grade | None:
        """The cascade's one decision, for live and batch grading alike: the offline grade
        (on the offline runner, a worker process in batch grading, else a thread), kept and
        noted as such when its score is outside the uncertain band; None when the answer
        goes to the model. Counts both (`kept`, `sent`)."""
        if self.cascade is None:
            raise ValueError(f"{self.spec} is not a cascade: every answer goes to the model")
        prepared = PreparedAnswer.of(answer)
        if self.offline_runner is not None:
            first = await self.offline_runner(question, rubric, prepared.original)
        else:
            first = await asyncio.to_thread(self.offline.grade, question, rubric, prepared)
        if self.cascade.uncertain(first.score):
            self.sent += 1
            return None
        self.kept += 1
        note = (
            f"cascade: the offline score {first.score:.0f} is outside the uncertain band "
            f"{self.cascade}, so {self.provider.spec} was not asked"
        )
        return first.model_copy(
            update={
                "judge": f"{self.offline.spec} (cascade, {self.provider.spec} not asked)",
                "notes": [*first.notes, note],
            }
        )

    async def _model_grade(
        self, question: Question, rubric: Rubric, prepared: PreparedAnswer
    ) -> Grade:
        started = time.perf_counter()
        report = await self.guard(question, rubric, prepared)
        if report.blocked:
            return self.blocked_grade(rubric, report, started)
        request = self.request_for(question, rubric, prepared, report)
        usage = TokenUsage()
        until = time.monotonic() + self.deadline
        try:
            reply, usage = await self._ask(rubric, request, until)
        except Exception as exc:
            return await self.fallback_grade(
                question, rubric, prepared, self._describe(exc), usage, started
            )
        return self._verified(rubric, prepared, report, reply, usage, started)

    # The steps of a grade, also used one by one by the providers' batch APIs
    # (interviewer.batch.batch_api): guards, the request, and the reply checked.

    async def guard(
        self, question: Question, rubric: Rubric, answer: str | PreparedAnswer
    ) -> GuardReport:
        """The shared guards, on the guard runner (a worker process in batch grading, which
        prepares the same text the same way). The report's units are spans of the prepared
        answer's text."""
        prepared = PreparedAnswer.of(answer)
        if self.guard_runner is not None:
            return await self.guard_runner(question, rubric, prepared.original)
        return await asyncio.to_thread(run_guards, question, rubric, prepared, self.offline.encoder)

    def blocked_grade(self, rubric: Rubric, report: GuardReport, started: float) -> Grade:
        """An answer the guards blocked (empty, gibberish, off topic...): never sent."""
        missed = [Verdict(key_point=kp.id, verdict="missed") for kp in rubric.key_points]
        return self._grade(rubric, missed, [], report, TokenUsage(), started, [])

    def request_for(
        self,
        question: Question,
        rubric: Rubric,
        answer: str | PreparedAnswer,
        report: GuardReport,
    ) -> Request:
        """What is sent: the prompt, the fenced answer (its prepared text, blocked sentences
        removed), the reply schema."""
        return Request(
            system=system_prompt(question, rubric),
            user=fence(_redacted(PreparedAnswer.of(answer).text, report)),
            schema=reply_schema(rubric, bounded=self.bounded_schema),
        )

    def grade_reply(
        self,
        rubric: Rubric,
        answer: str | PreparedAnswer,
        report: GuardReport,
        completion: Completion,
        started: float,
    ) -> Grade:
        """A reply made into a grade: parsed, every quote checked against the answer.
        Raises ReplyError when the reply is unusable (not JSON, not the schema)."""
        reply = _parse(completion, rubric)
        return self._verified(rubric, answer, report, reply, completion.usage, started)

    def _verified(
        self,
        rubric: Rubric,
        answer: str | PreparedAnswer,
        report: GuardReport,
        reply: _Reply,
        usage: TokenUsage,
        started: float,
    ) -> Grade:
        checker = EvidenceChecker(PreparedAnswer.of(answer), _blocked(report), self.offline.encoder)
        flags: list[Flag] = []
        verdicts: list[Verdict] = []
        for kp in rubric.key_points:
            got = reply.verdicts.get(kp.id)
            if got is None:
                verdicts.append(Verdict(key_point=kp.id, verdict="missed", reason="not graded"))
                continue
            if got.verdict == "missed":
                verdicts.append(Verdict(key_point=kp.id, verdict="missed", reason=got.reason))
                continue
            target = Target(kp.evidence.terms(), [kp.text.zh, kp.text.en])
            problem = checker.problem(got.evidence, target)
            if problem is None:
                verdicts.append(
                    Verdict(
                        key_point=kp.id,
                        verdict=got.verdict,
                        evidence=got.evidence,
                        reason=got.reason,
                    )
                )
                continue
            if "unverified_evidence" not in flags:
                flags.append("unverified_evidence")
            verdicts.append(
                Verdict(
                    key_point=kp.id,
                    verdict="missed",
                    reason=f"the judge said {got.verdict}, but {problem}; {got.reason}"[:500],
                )
            )
        found = self._misconceptions(rubric, reply, checker)
        return self._grade(rubric, verdicts, found, report, usage, started, flags)

    async def _ask(
        self, rubric: Rubric, request: Request, until: float
    ) -> tuple[_Reply, TokenUsage]:
        system, user, schema = request.system, request.user, request.schema
        usage = TokenUsage()
        notes: list[str] = []
        for attempt in range(2):
            completion: Completion = await call_with_retries(
                partial(self.provider.structured, system, user, schema, "record_grade", notes),
                max_retries=self.max_retries,
                deadline=until - time.monotonic(),  # what is left of the one deadline
                gate=self.gate,
                breaker=self.breaker,
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
        self, rubric: Rubric, reply: _Reply, checker: EvidenceChecker
    ) -> list[MisconceptionFound]:
        by_id = {mc.id: mc for mc in rubric.misconceptions}
        found: dict[str, MisconceptionFound] = {}
        for item in reply.misconceptions:
            mc = by_id.get(item.id)
            if mc is None or item.id in found:
                continue
            target = Target(mc.evidence.terms(), [mc.text.zh, mc.text.en])
            if checker.problem(item.evidence, target) is None:
                found[item.id] = MisconceptionFound(
                    id=item.id, evidence=item.evidence, penalty=mc.penalty
                )
        return list(found.values())

    async def fallback_grade(
        self,
        question: Question,
        rubric: Rubric,
        answer: str | PreparedAnswer,
        reason: str,
        usage: TokenUsage,
        started: float,
    ) -> Grade:
        """The offline judge's grade, flagged judge_fallback, saying why the model's was
        not used."""
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

    def describe(self, exc: BaseException) -> str:
        """A failure in a few words, for a flag's note or a progress line."""
        return self._describe(exc)

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, CircuitOpen):
            return str(exc)
        if isinstance(exc, TimeoutError):
            return f"no usable answer within the deadline of {self.deadline:g}s"
        status = status_of(exc)
        name = type(exc).__name__
        if status:
            return f"{name}: HTTP {status}"
        detail = str(exc)[:160]
        return f"{name}: {detail}" if detail else name

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
            fingerprint=self.fingerprint,
            usage=usage,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def _blocked(report: GuardReport) -> list[tuple[int, int]]:
    """Spans of the sentences the guards set aside (none of their words may earn)."""
    usable = {(u.start, u.end) for u in report.usable}
    return [
        (unit.start, unit.end)
        for unit in report.units
        if unit.kind == "sentence" and not any(unit.start <= s and e <= unit.end for s, e in usable)
    ]


def _redacted(text: str, report: GuardReport) -> str:
    """The prepared answer's text (whose spans the guards' units are) with the sentences
    the guards blocked replaced by a marker."""
    out, last = [], 0
    for start, end in _blocked(report):
        out.append(text[last:start])
        out.append("[removed by the guards]")
        last = end
    out.append(text[last:])
    return "".join(out)


def _preflight_error(
    spec: str, endpoint: str, exc: BaseException, status: int | None
) -> InterviewerError:
    where = f"{spec} at {endpoint}"
    if status == 401:
        return ConfigError(
            f"{where}: the key was refused (HTTP 401)",
            hint="Check the key: OPENAI_API_KEY for openai:, ANTHROPIC_API_KEY for "
            "anthropic:, INTERVIEWER_COMPATIBLE_API_KEY or --api-key-env for compatible:.",
        )
    if status == 403:
        return ConfigError(
            f"{where}: the key has no access to this model (HTTP 403)",
            hint="Use a model the key may call, or another key.",
        )
    if status == 404:
        return ConfigError(
            f"{where}: model or endpoint not found (HTTP 404)",
            hint="Check the model name (e.g. openai:gpt-4o-mini) and, for compatible:, the "
            "base URL (it usually ends in /v1).",
        )
    if isinstance(exc, CircuitOpen | TimeoutError) or status is None:
        reason = f"no answer ({type(exc).__name__}{': ' + str(exc)[:120] if str(exc) else ''})"
    else:
        reason = f"HTTP {status}"
    return JudgeUnavailable(
        f"{where} is not answering: {reason}",
        hint="Check that the server is up and the URL is right; or grade with --judge "
        "offline; or pass --allow-fallback to grade anyway (rows it fails on are graded "
        "offline and flagged judge_fallback).",
    )


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
