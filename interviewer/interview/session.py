"""One interview, driven step by step: the same for plain mode and the TUI.

The graph's state is checkpointed in SQLite (data dir, `interviews.sqlite`) after every
step, durably (durability="sync"), and the transcript is rewritten after every step; a
crash at any point can be resumed with `--resume ID` at the step where it stopped.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from interviewer.bank.loader import Bank, load_bank
from interviewer.config import JudgeSpec, Settings
from interviewer.errors import InterviewerError
from interviewer.fsutil import private_file
from interviewer.interview import opening
from interviewer.interview.context import InterviewContext
from interviewer.interview.graph import Deps, build_graph
from interviewer.interview.opening import check_topics, now, start_difficulty
from interviewer.interview.personas import persona
from interviewer.interview.state import Message
from interviewer.interview.voice import LLMVoice, ScriptedVoice, Voice
from interviewer.judge import Judge, make_judge
from interviewer.judge.offline import OfflineJudge
from interviewer.transcript.build import from_state
from interviewer.transcript.schema import Transcript
from interviewer.transcript.store import TranscriptStore, check_id

Chunk = Callable[[str], None]


def checkpoint_path(settings: Settings) -> Path:
    return settings.data_dir / "interviews.sqlite"


def make_voice(settings: Settings, ctx: InterviewContext) -> Voice:
    scripted = ScriptedVoice(persona(ctx.persona))
    if ctx.interviewer == "scripted":
        return scripted
    from interviewer.llm.providers import make_provider

    provider = make_provider(JudgeSpec.parse(ctx.interviewer), settings)
    return LLMVoice(persona=scripted.persona, provider=provider, fallback=scripted)


@dataclass
class Session:
    interview_id: str
    ctx: InterviewContext
    bank: Bank
    graph: Any
    store: TranscriptStore
    created: str
    conn: sqlite3.Connection
    _judges: dict[str, Judge] = field(default_factory=dict)
    judge_for: Callable[[str], Judge] | None = None

    @property
    def config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.interview_id}}

    # --- opening --------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        settings: Settings,
        ctx: InterviewContext | None,
        *,
        resume: str | None = None,
        bank: Bank | None = None,
        interview_id: str | None = None,
    ) -> Session:
        """A new interview on `ctx` (with `interview_id` if given), or the saved one with
        id `resume`."""
        bank = bank or load_bank(settings.bank_dir)
        private = private_file(checkpoint_path(settings))  # 0600 in a 0700 folder: answers
        conn = sqlite3.connect(private, check_same_thread=False)
        saver = SqliteSaver(conn)
        store = TranscriptStore(settings.transcripts_dir)
        judges: dict[str, Judge] = {}
        making = threading.Lock()  # the warm-up thread and the graph may both ask

        def judge_for(spec: str) -> Judge:
            with making:
                if spec not in judges:
                    judge = make_judge(spec, settings)
                    if isinstance(judge, OfflineJudge):
                        judge.learn_terms(list(bank.rubrics.values()))
                    judges[spec] = judge
                return judges[spec]

        deps = Deps(bank=bank, judge_for=judge_for, voice_for=lambda c: make_voice(settings, c))
        graph = build_graph(deps, saver)
        if resume is None:
            assert ctx is not None
            check_topics(bank, ctx)
            new = check_id(interview_id) if interview_id else opening.new_id()
            return cls(new, ctx, bank, graph, store, now(), conn, judges, judge_for)
        check_id(resume)
        snapshot = graph.get_state({"configurable": {"thread_id": resume}})
        values = snapshot.values if snapshot else {}
        if not values:
            conn.close()
            raise InterviewerError(
                f"no saved interview {resume!r} in {checkpoint_path(settings)}",
                hint="`interviewer interview --resume` lists the unfinished ones.",
            )
        if values.get("done"):
            conn.close()
            raise InterviewerError(
                f"interview {resume!r} is already finished",
                hint=f"See it with `interviewer review show {resume}`.",
            )
        saved = InterviewContext.model_validate(values["settings"])
        created = values.get("created", now())
        return cls(resume, saved, bank, graph, store, created, conn, judges, judge_for)

    # --- driving ------------------------------------------------------------------------

    def start(self, on_chunk: Chunk | None = None) -> list[Message]:
        """Begin a new interview: greet and ask the first question."""
        self.warm_up_in_background()
        initial: dict[str, Any] = {
            "interview_id": self.interview_id,
            "settings": self.ctx.model_dump(mode="json"),
            "created": self.created,
            "messages": [],
            "finished": [],
            "asked": [],
            "target_difficulty": start_difficulty(self.ctx),
            "done": False,
        }
        return self._run(initial, on_chunk)

    def send(self, action: str, text: str = "", on_chunk: Chunk | None = None) -> list[Message]:
        """The candidate's move: answer (with text), hint, repeat, skip or quit."""
        return self._run(Command(resume={"action": action, "text": text}), on_chunk)

    def _run(self, payload: Any, on_chunk: Chunk | None) -> list[Message]:
        before = len(self.values.get("messages", []))
        for mode, data in self.graph.stream(
            payload,
            self.config,
            context=self.ctx,
            stream_mode=["custom", "values"],
            durability="sync",
        ):
            if mode == "custom" and on_chunk and isinstance(data, dict) and "chunk" in data:
                on_chunk(str(data["chunk"]))
        self.save()
        return list(self.values.get("messages", [])[before:])

    # --- reading ------------------------------------------------------------------------

    @property
    def values(self) -> dict[str, Any]:
        snapshot = self.graph.get_state(self.config)
        return dict(snapshot.values) if snapshot and snapshot.values else {}

    @property
    def done(self) -> bool:
        return bool(self.values.get("done"))

    def pending_prompt(self) -> list[Message]:
        """What was said since the candidate last answered (to show again on resume)."""
        messages = self.values.get("messages", [])
        out: list[Message] = []
        for m in reversed(messages):
            if m["role"] == "candidate":
                break
            out.append(m)
        return list(reversed(out))

    def transcript(self, draft: str = "") -> Transcript:
        """The transcript as of now; `draft` is an answer being typed (autosaved).

        Reviewers' overrides and regrades already in the saved file are kept.
        """
        previous = None
        if self.store.exists(self.interview_id):
            try:
                previous = self.store.load(self.interview_id)
            except InterviewerError:
                previous = None  # unreadable: rewritten from the graph's state

        def lookup(question_id: str) -> tuple[str, int] | None:
            q = self.bank.questions.get(question_id)
            return (q.topic, q.difficulty) if q else None

        return from_state(
            self.values,
            interview_id=self.interview_id,
            created=self.created,
            updated=now(),
            settings=self.ctx,
            draft=draft,
            lookup=lookup,
            previous=previous,
        )

    def save(self, draft: str = "") -> Path:
        return self.store.save(self.transcript(draft))

    def saved_draft(self) -> str:
        """The answer being typed when this interview was last saved ("" if none)."""
        try:
            return self.store.load(self.interview_id).draft
        except InterviewerError:
            return ""

    def warm_up_in_background(self) -> None:
        """Start `warm_up` on a thread: the first question need not wait for the model."""

        def run() -> None:
            with contextlib.suppress(Exception):  # the first grade will report it
                self.warm_up()

        threading.Thread(target=run, name="judge-warm-up", daemon=True).start()

    def warm_up(self) -> None:
        """Make the judge now (for the offline judge: load its model and embed the bank's
        rubrics) so that the first answer is graded without that wait."""
        if self.judge_for is None:
            return
        judge = self.judge_for(self.ctx.judge)
        if isinstance(judge, OfflineJudge):
            judge.warm_up()
            judge.prepare_all([(q, self.bank.rubric(q.id)) for q in self.bank.questions.values()])

    def close(self) -> None:
        self.conn.close()


def unfinished(settings: Settings) -> list[Transcript]:
    """Saved interviews that did not reach the report, newest first."""
    store = TranscriptStore(settings.transcripts_dir)
    out = []
    for interview_id in store.ids():
        try:
            t = store.load(interview_id)
        except (InterviewerError, ValueError):
            continue
        if not t.finished:
            out.append(t)
    return sorted(out, key=lambda t: t.updated, reverse=True)
