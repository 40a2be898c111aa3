"""The interview graph's nodes and routers, each a plain function of the state and the run's
`Runtime[InterviewContext]` (the interview's settings, as react-agent's nodes take their
context). What is not settings, the bank and the makers of judges and voices, comes as
`deps`, bound once by `graph.build_graph`; a node can be called alone with a hand-made state
and `Runtime(context=...)`.

`await_answer` is the only node that waits (`interrupt`); it re-runs from the top on resume,
so it does nothing before the interrupt. It records each move in the state: `moved_at` (where
the conversation stood, so that a resume shows what came after it) and `taken` (answers,
skips and quits so far, so that a resume can tell a draft the graph already took from one
still unsent). An answer longer than MAX_ANSWER_CHARS is cut there and its grade flagged
`truncated`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from interviewer.bank.bank import Bank
from interviewer.bank.schema import KeyPoint, Question, Rubric
from interviewer.interview.context import InterviewContext
from interviewer.interview.followup import choose_probe, next_probe, says_dont_know
from interviewer.interview.gap import ask_gap, gap_for
from interviewer.interview.opening import asking, msg, next_question, now, start_difficulty
from interviewer.interview.report import build_report
from interviewer.interview.selection import next_difficulty
from interviewer.interview.state import Attempt, Current, Finished, InterviewState, Message
from interviewer.interview.voice import Voice
from interviewer.judge import Judge, progress
from interviewer.judge.merge import merge
from interviewer.judge.schema import Grade
from interviewer.transcript.marks import Mark

ACTIONS = ("answer", "hint", "repeat", "skip", "quit")
TAKES_DRAFT = ("answer", "skip", "quit")  # moves after which an unsent draft is gone
MAX_ANSWER_CHARS = 20_000  # as batch grading (interviewer.batch.runner)


@dataclass
class Deps:
    """What nodes need that is not state: the bank, and makers of judges and voices."""

    bank: Bank
    judge_for: Callable[[str], Judge]
    voice_for: Callable[[InterviewContext], Voice]
    _voices: dict[str, Voice] = field(default_factory=dict)

    def voice(self, ctx: InterviewContext) -> Voice:
        key = f"{ctx.interviewer}|{ctx.persona}"
        if key not in self._voices:
            self._voices[key] = self.voice_for(ctx)
        return self._voices[key]


def _emit(runtime: Runtime[InterviewContext]) -> Callable[[str], None]:
    """Streams the interviewer's words as they come (the "custom" stream mode)."""
    writer = runtime.stream_writer
    return lambda chunk: writer({"chunk": chunk})


def qr(bank: Bank, state: InterviewState) -> tuple[Question, Rubric, Current]:
    """The question in progress, its rubric, and its state."""
    current = state.get("current")
    assert current is not None, "no question in progress"
    qid = current["question_id"]
    return bank.question(qid), bank.rubric(qid), current


def merged_grade(rubric: Rubric, current: Current, judge: str) -> Grade:
    """The question's grade so far: the best verdict per key point across its attempts."""
    grades = [Grade.model_validate(a["grade"]) for a in current["attempts"]]
    return merge(rubric, grades, current["hinted"], judge)


# --- nodes -------------------------------------------------------------------------------


def select(
    state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps
) -> dict[str, Any]:
    ctx = runtime.context
    finished = state.get("finished", [])
    if len(finished) >= ctx.questions:
        return {"current": None}
    asked = state.get("asked", [])
    target = state.get("target_difficulty") or start_difficulty(ctx)
    question = next_question(deps.bank, ctx, asked, target)
    if question is None:
        return {"current": None}
    current: Current = {
        "question_id": question.id,
        "attempts": [],
        "probed": [],
        "hinted": [],
        "dont_know": False,
        "off_topic": 0,
        "pending_probe": None,
        "started": now(),
    }
    return {"current": current, "asked": [*asked, question.id]}


def ask(state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps) -> dict[str, Any]:
    ctx = runtime.context
    question, _rubric, _ = qr(deps.bank, state)
    voice = deps.voice(ctx)
    turn = len(state.get("asked", []))
    messages = asking(voice, ctx, question, turn, _emit(runtime))
    # (The judge is made and the bank's rubrics embedded by Session's warm-up thread,
    # so that the question is not held up by loading the model.)
    return {"messages": messages}


def await_answer(state: InterviewState) -> dict[str, Any]:
    # Re-runs from the top on resume: nothing before interrupt() may have effects.
    last = next(
        (m for m in reversed(state.get("messages", [])) if m["role"] == "interviewer"),
        None,
    )
    reply = interrupt({"prompt": last["text"] if last else "", "kind": "answer"})
    action, text = _parse_reply(reply)
    update: dict[str, Any] = {
        "action": action,
        "moved_at": len(state.get("messages", [])),
        "taken": state.get("taken", 0) + (1 if action in TAKES_DRAFT else 0),
    }
    if action == "answer":
        update["truncated"] = len(text) > MAX_ANSWER_CHARS
        update["messages"] = [msg("candidate", text[:MAX_ANSWER_CHARS], "answer")]
    return update


def grade(
    state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps
) -> dict[str, Any]:
    ctx = runtime.context
    question, rubric, current = qr(deps.bank, state)
    answer = state["messages"][-1]["text"]
    prompt = next(
        m["text"]
        for m in reversed(state["messages"])
        if m["role"] == "interviewer" and m["kind"] in ("question", "follow_up", "repeat")
    )
    judge = deps.judge_for(ctx.judge)
    result = judge.grade(question, rubric, answer)
    if state.get("truncated") and "truncated" not in result.flags:
        result = result.model_copy(update={"flags": [*result.flags, "truncated"]})
    attempt: Attempt = {
        "prompt": prompt,
        "probes": current["pending_probe"],
        "answer": answer,
        "grade": result.model_dump(mode="json"),
        "at": now(),
    }
    updated: Current = {
        **current,
        "attempts": [*current["attempts"], attempt],
        "dont_know": current["dont_know"] or says_dont_know(answer),
        "off_topic": current["off_topic"] + (1 if "off_topic" in result.flags else 0),
        "pending_probe": None,
    }
    messages: list[Message] = []
    if ctx.mode == "practice":
        grades = [Grade.model_validate(a["grade"]) for a in updated["attempts"]]
        step = progress.latest(rubric, grades, updated["hinted"], judge.spec)
        assert step is not None
        messages.append(msg("system", _grade_note(rubric, step, ctx.lang), "grade"))
    return {"current": updated, "messages": messages}


def decide(
    state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps
) -> dict[str, Any]:
    ctx = runtime.context
    question, rubric, current = qr(deps.bank, state)
    probes_asked = sum(1 for a in current["attempts"] if a["probes"])
    stop = current["dont_know"] or current["off_topic"] >= 2
    if stop or probes_asked >= ctx.follow_up_limit:
        return {"action": "next"}
    merged = merged_grade(rubric, current, ctx.judge)
    probe = probe_for(question, rubric, merged, current["attempts"], current["probed"], ctx)
    return {"action": "follow_up" if probe else "next"}


def follow_up(
    state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps
) -> dict[str, Any]:
    ctx = runtime.context
    question, rubric, current = qr(deps.bank, state)
    merged = merged_grade(rubric, current, ctx.judge)
    kp = probe_for(question, rubric, merged, current["attempts"], current["probed"], ctx)
    assert kp is not None
    gap = gap_for(question, rubric, merged, current["attempts"], kp, ctx.lang)
    turn = len(current["attempts"])
    text = ask_gap(deps.voice(ctx), gap, question, ctx.lang, turn, _emit(runtime))
    return {
        "current": {**current, "probed": [*current["probed"], kp.id], "pending_probe": kp.id},
        "messages": [msg("interviewer", text, "follow_up")],
    }


def hint(
    state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps
) -> dict[str, Any]:
    ctx = runtime.context
    _, rubric, current = qr(deps.bank, state)
    voice = deps.voice(ctx)
    if ctx.mode == "exam":
        note = "考试模式没有提示。" if ctx.lang == "zh" else "No hints in exam mode."
        return {"messages": [msg("system", note, "note")]}
    merged = merged_grade(rubric, current, ctx.judge)
    kp = next_probe(rubric, merged, current["hinted"])
    if kp is None:
        note = "已经没有可以提示的要点了。" if ctx.lang == "zh" else "Nothing left to hint at."
        return {"messages": [msg("system", note, "note")]}
    terms = kp.evidence.zh if ctx.lang == "zh" else kp.evidence.en
    cue = " / ".join(terms[:2]) if terms else kp.text.get(ctx.lang)[:20] + "…"
    text = voice.say("hint", ctx.lang, len(current["hinted"]), h=cue)
    return {
        "current": {**current, "hinted": [*current["hinted"], kp.id]},
        "messages": [msg("interviewer", text, "hint")],
    }


def repeat(state: InterviewState) -> dict[str, Any]:
    last = next(
        m
        for m in reversed(state["messages"])
        if m["role"] == "interviewer" and m["kind"] in ("question", "follow_up", "repeat")
    )
    return {"messages": [msg("interviewer", last["text"], "repeat")]}


def finish(
    state: InterviewState,
    runtime: Runtime[InterviewContext],
    *,
    deps: Deps,
    skipped: bool = False,
) -> dict[str, Any]:
    ctx = runtime.context
    question, rubric, current = qr(deps.bank, state)
    merged = merged_grade(rubric, current, deps.judge_for(ctx.judge).spec)
    done: Finished = {
        "question_id": question.id,
        "topic": question.topic,
        "difficulty": question.difficulty,
        "score": merged.score,
        "merged": merged.model_dump(mode="json"),
        "attempts": current["attempts"],
        "hinted": current["hinted"],
        "skipped": skipped,
    }
    target = state.get("target_difficulty") or ctx.difficulty or 2
    voice = deps.voice(ctx)
    turn = len(state.get("finished", []))
    kind = "skip" if skipped else ("dont_know" if current["dont_know"] else "ack")
    return {
        "finished": [*state.get("finished", []), done],
        "current": None,
        "target_difficulty": next_difficulty(target, merged.score),
        "messages": [msg("interviewer", voice.say(kind, ctx.lang, turn), kind)],
    }


def skip(
    state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps
) -> dict[str, Any]:
    # Skipping a follow-up moves on; only a question never answered counts as skipped.
    _, _, current = qr(deps.bank, state)
    return finish(state, runtime, deps=deps, skipped=not current["attempts"])


def finish_question(
    state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps
) -> dict[str, Any]:
    return finish(state, runtime, deps=deps)


def wrap_up(
    state: InterviewState, runtime: Runtime[InterviewContext], *, deps: Deps
) -> dict[str, Any]:
    ctx = runtime.context
    update: dict[str, Any] = {}
    finished = list(state.get("finished", []))
    if state.get("current") is not None:
        current = state["current"]
        assert current is not None
        if current["attempts"]:
            update = finish_question(state, runtime, deps=deps)
            finished = update["finished"]
        update["current"] = None
    report = build_report(deps.bank, finished, ctx.lang)
    closing = deps.voice(ctx).say("closing", ctx.lang, 0)
    messages = [*update.get("messages", []), msg("interviewer", closing, "closing")]
    return {
        **update,
        "finished": finished,
        "report": report,
        "done": True,
        "messages": messages,
    }


# --- routers -----------------------------------------------------------------------------


def after_select(state: InterviewState) -> Literal["ask", "wrap_up"]:
    return "ask" if state.get("current") else "wrap_up"


def after_answer(
    state: InterviewState,
) -> Literal["grade", "hint", "repeat", "skip", "wrap_up"]:
    action = state.get("action", "answer")
    if action == "quit":
        return "wrap_up"
    if action in ("hint", "repeat", "skip"):
        return action  # type: ignore[return-value]
    return "grade"


def after_decide(state: InterviewState) -> Literal["follow_up", "finish_question"]:
    return "follow_up" if state.get("action") == "follow_up" else "finish_question"


def probe_for(
    question: Question,
    rubric: Rubric,
    merged: Grade,
    attempts: list[Attempt],
    probed: list[str],
    ctx: InterviewContext,
) -> KeyPoint | None:
    """`choose_probe`, but with `--due` the question's due review items come first."""
    due = ctx.review.get(question.id)
    if due:
        others = [kp.id for kp in rubric.key_points if kp.id not in due]
        kp = choose_probe(question, rubric, merged, attempts, [*probed, *others])
        if kp is not None:
            return kp
    return choose_probe(question, rubric, merged, attempts, probed)


def _parse_reply(reply: Any) -> tuple[str, str]:
    if isinstance(reply, dict):
        action = str(reply.get("action", "answer"))
        text = str(reply.get("text", ""))
    else:
        action, text = "answer", str(reply)
    if action not in ACTIONS:
        action = "answer"
    return action, text


def _grade_note(rubric: Rubric, step: progress.Step, lang: str) -> str:
    """The question's running grade (every answer so far) and what the last answer added,
    then each key point's title with its mark. The points' statements are not shown: they
    are the answer (Ctrl+E or /explain shows them after grading)."""
    grade = step.merged
    if lang == "zh":
        head = f"本题得分: {grade.score:.0f}/100（这次回答 {step.added(lang)}）"
    else:
        head = f"Score: {grade.score:.0f}/100 for the question (this answer: {step.added(lang)})"
    lines = [head]
    for kp in rubric.key_points:
        v = grade.verdict(kp.id)
        lines.append(f"  {Mark(v.verdict).glyph} {progress.title(kp, lang)}")
    for m in grade.misconceptions:
        lines.append(
            f"  ! {'误区' if lang == 'zh' else 'Misconception'}: {m.evidence} (-{m.penalty:g})"
        )
    if grade.flags:
        lines.append(f"  flags: {', '.join(grade.flags)}")
    return "\n".join(lines)
