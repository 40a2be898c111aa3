"""One interview, driven step by step: the same for plain mode and the TUI.

The graph's state is checkpointed after every step, durably (durability="sync"): in
SQLite (data dir, `interviews.sqlite`), or in PostgreSQL when `database_url` is set
(interviewer.interview.checkpoints); the transcript is rewritten after every step (a file,
or a row: interviewer.transcript.store.open_transcripts). A crash at any point can be
resumed with `--resume ID` at the step where it stopped, with PostgreSQL from any process
on any machine that shares the database.

The checkpoint is the truth. The transcript is written after the checkpoint, so after a
crash it may be a step behind: on resume, a step in flight (an answer taken but not yet
graded, a skip taken but the next question not yet asked) is run again first
(`finish_pending`), and a draft saved before the graph took the answer it became is
dropped (`saved_draft`: each draft records how many answers, skips and quits the graph
had taken when it was typed).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START
from langgraph.types import Command

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.config import JudgeSpec, Settings
from interviewer.errors import InterviewerError
from interviewer.fsutil import private_dir, try_hold
from interviewer.interview import opening, testhooks
from interviewer.interview.checkpoints import (
    Checkpointer,
    damaged,
    is_damaged,
    open_checkpointer,
)
from interviewer.interview.checkpoints import checkpoint_path as checkpoint_path
from interviewer.interview.context import InterviewContext
from interviewer.interview.graph import INTERRUPT, Deps, build_graph
from interviewer.interview.notsaved import NotSaved
from interviewer.interview.opening import check_topics, now, start_difficulty
from interviewer.interview.personas import persona
from interviewer.interview.standing import Standing, standing_of
from interviewer.interview.state import Message
from interviewer.interview.voice import LLMVoice, ScriptedVoice, Voice
from interviewer.judge import Judge, make_judge
from interviewer.judge.offline import OfflineJudge
from interviewer.transcript.build import from_state
from interviewer.transcript.schema import Transcript
from interviewer.transcript.settings import InterviewSettings
from interviewer.transcript.store import Transcripts, check_id, open_transcripts

Chunk = Callable[[str], None]
PROMPTS = ("question", "follow_up", "repeat")  # what the candidate answers


def make_voice(settings: Settings, ctx: InterviewContext) -> Voice:
    scripted = ScriptedVoice(persona(ctx.persona))
    if ctx.interviewer == "scripted":
        return scripted
    from interviewer.llm.providers import make_provider

    provider = make_provider(JudgeSpec.parse(ctx.interviewer), settings)
    return LLMVoice(persona=scripted.persona, provider=provider, fallback=scripted)


CLOSE_WAIT = 0.5  # seconds `Session.close` waits for the judge's warm-up to stop
WARM_UP_CHUNK = 16  # rubrics the warm-up prepares between checks that the session is open


@dataclass
class Session:
    interview_id: str
    ctx: InterviewContext
    bank: Bank
    graph: Any
    store: Transcripts
    created: str
    checkpointer: Checkpointer
    settings: Settings
    _judges: dict[str, Judge] = field(default_factory=dict)
    judge_for: Callable[[str], Judge] | None = None
    practice_error: str | None = None  # the review items could not be updated (see _remember)
    _warming: threading.Thread | None = field(default=None, repr=False)
    _closing: threading.Event = field(default_factory=threading.Event, repr=False)
    _warm_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _held: int | None = field(default=None, repr=False)  # the lock that holds it open

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
        id `resume`. The interview is held open until `close` (or the process ends): a
        second process resuming it meanwhile is refused, since each would save over the
        other's answers."""
        chosen = check_id(resume if resume is not None else interview_id or opening.new_id())
        held = hold_open(settings, chosen)
        try:
            session = cls._open(settings, ctx, resume=resume, bank=bank, interview_id=chosen)
        except BaseException:
            os.close(held)
            raise
        session._held = held
        return session

    @classmethod
    def _open(
        cls,
        settings: Settings,
        ctx: InterviewContext | None,
        *,
        resume: str | None,
        bank: Bank | None,
        interview_id: str,
    ) -> Session:
        bank = bank or load_bank(settings.bank_dir)
        checkpointer = open_checkpointer(settings)
        saver = checkpointer.saver
        store = open_transcripts(settings)
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
            return cls(
                interview_id,
                ctx,
                bank,
                graph,
                store,
                now(),
                checkpointer,
                settings,
                judges,
                judge_for,
            )
        config: RunnableConfig = {"configurable": {"thread_id": resume}}  # (id checked: open)
        try:
            snapshot = graph.get_state(config)
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc):
                raise  # (busy, or a disk error: not the file's fault)
            checkpointer.close()  # a file damaged past its header
            raise damaged(Path(checkpointer.where), exc) from None
        values = dict(snapshot.values) if snapshot else {}
        if values and "settings" not in values:
            # Killed before the first step: the initial state is still the graph's input.
            first = saver.get_tuple(config)
            start = first.checkpoint["channel_values"].get(START) if first else None
            values = dict(start) if isinstance(start, dict) else {}
        if not values.get("settings"):
            checkpointer.close()
            raise InterviewerError(
                f"no saved interview {resume!r} in {checkpointer.where}",
                hint="`interviewer interview --resume` lists the unfinished ones.",
            )
        if values.get("done") and _saved_as_finished(store, resume):
            checkpointer.close()
            raise InterviewerError(
                f"interview {resume!r} is already finished",
                hint=f"See it with `interviewer review show {resume}`.",
            )
        # (Finished in the checkpoint but not in the transcript: killed between the two.
        # The session opens; its caller saves the transcript and shows the report.)
        # (Leniently, as a transcript's settings: a key an older version saved is dropped.)
        kept = InterviewSettings.model_validate(values["settings"])
        saved = InterviewContext(**kept.model_dump())
        created = values.get("created", now())
        return cls(
            resume, saved, bank, graph, store, created, checkpointer, settings, judges, judge_for
        )

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

    def send(
        self, action: str, text: str = "", on_chunk: Chunk | None = None, draft: str = ""
    ) -> list[Message]:
        """The candidate's move: answer (with text), hint, repeat, skip or quit.

        `draft` is an answer being typed that this move does not send (lines typed before
        a /hint): it stays saved while the step runs and after it.
        """
        payload: Command[Any] = Command(resume={"action": action, "text": text})
        if action == "answer" and self.step_in_flight():
            # The last step failed after the graph took an answer: go back to where it was
            # waiting for it, so that the answer sent now (edited, perhaps) is the one graded.
            waiting = self._waiting_for_answer()
            if waiting is not None:
                # A copy of it, without the writes of the step that took the first answer
                # (from the original, LangGraph would replay them).
                fork = self.graph.update_state(waiting, None, as_node="__copy__")
                return self._run(payload, on_chunk, draft=draft, config=fork)
        return self._run(payload, on_chunk, draft=draft)

    def _waiting_for_answer(self) -> dict[str, Any] | None:
        """The config of the newest checkpoint stopped at `await_answer`'s interrupt, when
        the step taken from it was an answer; else None."""
        newer: Any = None
        for snapshot in self.graph.get_state_history(self.config):
            if any(task.interrupts for task in snapshot.tasks):
                taken = newer is not None and newer.values.get("action") == "answer"
                return dict(snapshot.config) if taken else None
            newer = snapshot
        return None

    def step_in_flight(self) -> bool:
        """True when a crash stopped the graph in the middle of a step: the candidate's
        last move was taken (it is in the checkpoint) but the steps after it did not all
        run. `finish_pending` runs them."""
        snapshot = self.graph.get_state(self.config)
        if not snapshot:
            return False
        # Anything saved since the last checkpoint but the interrupt itself: the move that
        # answers it, or a node's result (LangGraph applies them when it goes on).
        saved = self.graph.checkpointer.get_tuple(self.config)
        writes = (saved.pending_writes or []) if saved else []
        if any(channel != INTERRUPT for _, channel, _ in writes):
            return True
        return bool(snapshot.next) and not any(task.interrupts for task in snapshot.tasks)

    def finish_pending(self, on_chunk: Chunk | None = None) -> list[Message]:
        """On resume: run the step a crash interrupted, up to the next question or the
        end. Returns what it said (nothing when no step was in flight)."""
        if not self.step_in_flight():
            if self.done:  # finished, but killed before the transcript said so
                try:
                    self.save()
                except Exception as exc:
                    raise NotSaved([], exc) from exc
            return []
        return self._run(None, on_chunk)

    def _run(
        self,
        payload: Any,
        on_chunk: Chunk | None,
        draft: str = "",
        config: dict[str, Any] | None = None,
    ) -> list[Message]:
        before = len(self.values.get("messages", []))
        if config is not None:  # from an earlier checkpoint: what is said counts from there
            before = len(self.graph.get_state(config).values.get("messages", []))
        for mode, data in self.graph.stream(
            payload,
            config or self.config,
            context=self.ctx,
            stream_mode=["custom", "values"],
            durability="sync",
        ):
            if mode == "custom" and on_chunk and isinstance(data, dict) and "chunk" in data:
                on_chunk(str(data["chunk"]))
        said = list(self.values.get("messages", [])[before:])
        try:
            self.save(draft=draft)
        except Exception as exc:  # the step is taken: say what it said, and that
            raise NotSaved(said, exc) from exc
        return said

    # --- reading ------------------------------------------------------------------------

    @property
    def values(self) -> dict[str, Any]:
        snapshot = self.graph.get_state(self.config)
        return dict(snapshot.values) if snapshot and snapshot.values else {}

    @property
    def done(self) -> bool:
        return bool(self.values.get("done"))

    def standing(self) -> Standing:
        """Where the interview stands, as typed models (what the screens read)."""
        return standing_of(self.values, self._lookup)

    def said(self) -> list[Message]:
        """Everything said so far, in order."""
        return list(self.values.get("messages", []))

    def pending_prompt(self) -> list[Message]:
        """What to show again on resume: what was said since the candidate's last move
        (answer, hint, repeat, skip), led by the question or follow-up being answered if
        it was asked before that move (a hint's question). A skipped question is not
        shown again: the move was the skip, and the next question comes after it."""
        values = self.values
        messages: list[Message] = list(values.get("messages", []))
        start = values.get("moved_at")
        if start is None:  # (a checkpoint from before moves were recorded)
            start = next(
                (
                    i + 1
                    for i in range(len(messages) - 1, -1, -1)
                    if messages[i]["role"] == "candidate"
                ),
                0,
            )
        prompt = next(
            (
                i
                for i in range(len(messages) - 1, -1, -1)
                if messages[i]["role"] == "interviewer" and messages[i]["kind"] in PROMPTS
            ),
            None,
        )
        lead = [messages[prompt]] if prompt is not None and prompt < start else []
        return lead + [m for m in messages[start:] if m["role"] != "candidate"]

    def _built(self, previous: Transcript | None, draft: str, values: dict[str, Any]) -> Transcript:
        """The transcript of the graph's `values`; `draft` is an answer being typed
        (autosaved). Reviewers' overrides and regrades in `previous`, the saved one, are
        kept. No I/O: it runs inside `Transcripts.update`, which holds a lock (and, in
        PostgreSQL, a pool connection that reading the checkpoints would wait beside)."""
        return from_state(
            values,
            interview_id=self.interview_id,
            created=self.created,
            updated=now(),
            settings=self.ctx,
            draft=draft,
            draft_taken=int(values.get("taken", 0)) if draft else None,
            lookup=self._lookup,
            previous=previous,
        )

    def _lookup(self, question_id: str) -> tuple[str, int] | None:
        q = self.bank.questions.get(question_id)
        return (q.topic, q.difficulty) if q else None

    def save(self, draft: str = "") -> Path | str:
        """Save the transcript as of now; the reviews saved meanwhile by other processes
        are kept (`Transcripts.update`; an unreadable one is rewritten)."""
        values = self.values  # read before the lock (see `_built`)
        transcript, path = self.store.update(
            self.interview_id,
            lambda previous: self._built(previous, draft, values),
            tolerant=True,
        )
        testhooks.point("save")
        self._remember(transcript)
        return path

    def _remember(self, transcript: Transcript) -> None:
        """Turn the finished questions' missed key points into review items (`--due`), in
        the configured store (the file beside the transcripts, or the database's row). Items
        that cannot be read or written never stop the interview: the error is kept in
        `practice_error`, and `interviewer --due` / `stats` report it and catch up from the
        transcripts once it is fixed."""
        from interviewer.practice.items import open_items
        from interviewer.transcript.imports import is_examples

        if not self.settings.database_url and is_examples(self.settings.transcripts_dir):
            return
        try:
            open_items(self.settings).record(transcript)
            self.practice_error = None
        except (InterviewerError, OSError) as exc:
            self.practice_error = str(exc)

    def saved_draft(self) -> str:
        """The answer being typed when this interview was last saved, if the graph has not
        taken it since ("" if none). Call it after `finish_pending`.

        A draft is saved with the count of answers, skips and quits the graph had taken
        (`taken`); when the checkpoint has taken more, the draft was sent (or its question
        skipped) before the crash, and showing it as unsent would send it twice.
        """
        try:
            saved = self.store.load(self.interview_id)
        except InterviewerError:
            return ""
        if not saved.draft.strip():
            return ""
        values = self.values
        if saved.draft_taken is not None:
            return saved.draft if saved.draft_taken == int(values.get("taken", 0)) else ""
        # A transcript from before drafts recorded `taken`: drop it if it was sent.
        answers = [m["text"] for m in values.get("messages", []) if m["role"] == "candidate"]
        return "" if answers and answers[-1].strip() == saved.draft.strip() else saved.draft

    def warm_up_in_background(self) -> None:
        """Start `warm_up` on a thread: the first question need not wait for the model."""

        def run() -> None:
            with contextlib.suppress(Exception):  # the first grade will report it
                self.warm_up()

        with self._warm_lock:  # (`close` may run at the same time, from the TUI's loop)
            if self._closing.is_set() or (self._warming and self._warming.is_alive()):
                return
            # Not a daemon: the interpreter kills a daemon thread at exit wherever it is,
            # and inside the tokenizer's C++ that aborts the process ("terminate called
            # without an active exception") after a quick /quit. A thread that is not a
            # daemon is waited for at exit instead; `close` stops it between steps.
            self._warming = threading.Thread(target=run, name="judge-warm-up")
            self._warming.start()

    def warm_up(self) -> None:
        """Make the judge now (for the offline judge: load its model and embed the bank's
        rubrics) so that the first answer is graded without that wait."""
        if self.judge_for is None or self._closing.is_set():
            return
        judge = self.judge_for(self.ctx.judge)
        if isinstance(judge, OfflineJudge):
            judge.warm_up()
            pairs = [(q, self.bank.rubric(q.id)) for q in self.bank.questions.values()]
            for start in range(0, len(pairs), WARM_UP_CHUNK):  # (0.3-0.5 s; 2-4 s cold)
                if self._closing.is_set():
                    return
                judge.prepare_all(pairs[start : start + WARM_UP_CHUNK])

    def close(self) -> None:
        """Stop the warm-up at its next chunk of rubrics, and close the checkpoints. It
        waits for the warm-up only briefly (the TUI calls this on its event loop): the
        chunk in hand finishes on its own, and at exit the interpreter waits for it."""
        with self._warm_lock:
            self._closing.set()
            warming = self._warming
        if warming is not None:
            warming.join(timeout=CLOSE_WAIT)
        self.checkpointer.close()
        held, self._held = self._held, None
        if held is not None:
            os.close(held)  # another process may resume it now


def hold_open(settings: Settings, interview_id: str) -> int:
    """Hold `interview_id` open in this process: a lock file under the data folder's open/
    (the descriptor is returned; closing it, or the process ending, lets it go). Another
    process holding it is an error that says what to do."""
    fd = try_hold(private_dir(settings.data_dir / "open") / f"{interview_id}.lock")
    if fd is None:
        raise InterviewerError(
            f"interview {interview_id} is open in another interviewer process",
            hint="Finish or quit it there first, then resume it here. (Two processes on one "
            "interview would each save over the other's answers.)",
        )
    return fd


def _saved_as_finished(store: Transcripts, interview_id: str) -> bool:
    try:
        return store.load(interview_id).finished
    except InterviewerError:
        return False


def unfinished(settings: Settings) -> list[Transcript]:
    """Saved interviews that did not reach the report, newest first."""
    return open_transcripts(settings).unfinished()
