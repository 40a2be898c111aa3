"""The v2 schema, migration from v1, and the store: atomic, private, safe ids, no keys."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interviewer.config import Settings
from interviewer.errors import InterviewerError
from interviewer.interview.context import InterviewContext
from interviewer.interview.session import Session
from interviewer.transcript.migrate import MIGRATIONS, parse, v1_to_v2
from interviewer.transcript.review import effective_score, override
from interviewer.transcript.schema import SCHEMA_VERSION, Transcript
from interviewer.transcript.store import TranscriptStore
from tests.conftest import REPO
from tests.transcript.conftest import ANSWERS, DATA, Interview

V1_FINISHED = DATA / "v1-finished.json"
V1_UNFINISHED = DATA / "v1-unfinished.json"


# --- schema -------------------------------------------------------------------------------


def test_real_interview_round_trips(interview: Interview, store: TranscriptStore) -> None:
    t = interview()
    raw = store.path(t.id).read_text("utf-8")
    data = json.loads(raw)  # plain JSON
    assert data["schema_version"] == SCHEMA_VERSION == 2
    assert Transcript.model_validate_json(raw) == t
    assert Transcript.model_validate_json(t.model_dump_json()) == t
    assert t.finished and len(t.turns) == 3 and t.report is not None

    # Every answer typed is there, typed, with its time and its grade.
    typed = [a.answer for turn in t.turns for a in turn.attempts]
    assert set(ANSWERS.values()) <= set(typed)
    candidate = [m.text for m in t.messages if m.role == "candidate"]
    assert typed == candidate
    for turn in t.turns:
        main = turn.attempts[0]
        assert main.probes is None and main.at and main.grade.judge == "offline"
        assert {v.key_point for v in main.grade.verdicts} == {
            v.key_point for v in turn.merged.verdicts
        }
        assert turn.shown[0].kind == "question" and turn.shown[0].role == "interviewer"
        assert all(m.role != "candidate" for m in turn.shown)
        # A follow-up asked is recorded with the key point it probed and the answer to it.
        for fu, answer in zip(turn.follow_ups, turn.attempts[1:], strict=False):
            assert fu.key_point == answer.probes and fu.text == answer.prompt
        assert turn.score == turn.merged.score
    assert any(turn.follow_ups for turn in t.turns)
    assert t.settings.judge == "offline" and t.settings.questions == 3


def test_skipped_question_is_recorded(interview: Interview) -> None:
    t = interview(skip=("sql-groupby-having",))
    skipped = [turn for turn in t.turns if turn.question_id == "sql-groupby-having"]
    assert len(skipped) == 1 and skipped[0].skipped and skipped[0].attempts == []
    assert skipped[0].score == 0.0


# --- migration ----------------------------------------------------------------------------


def test_v1_finished_file_loads_through_migration(tmp_path: Path, bank_dir: Path) -> None:
    from interviewer.bank.loader import load_bank

    raw = json.loads(V1_FINISHED.read_text("utf-8"))
    assert raw["schema_version"] == 1 and isinstance(raw["turns"][0]["merged"], dict)
    folder = tmp_path / "t"
    folder.mkdir()
    shutil.copy(V1_FINISHED, folder / f"{raw['id']}.json")
    store = TranscriptStore(folder)

    t = store.load(raw["id"])
    assert t.schema_version == 2
    turn = t.turns[0]
    assert [a.answer for a in turn.attempts] == [a["answer"] for a in raw["turns"][0]["attempts"]]
    assert [a.grade.score for a in turn.attempts] == [
        a["grade"]["score"] for a in raw["turns"][0]["attempts"]
    ]
    assert turn.merged.score == turn.score == raw["turns"][0]["score"]
    # Cut from the conversation: the words shown, the follow-ups with their key points.
    assert [m.kind for m in turn.shown] == [
        "question",
        "grade",
        "follow_up",
        "hint",
        "grade",
        "follow_up",
        "grade",
        "ack",
    ]
    assert [f.key_point for f in turn.follow_ups] == ["trainable-params", "init-scaling"]
    assert turn.hinted == ["trainable-params"]
    assert turn.regrades == []
    # The v1 override survives and counts.
    assert [(o.key_point, o.verdict) for o in turn.overrides] == [("target-modules", "partial")]
    rubric = load_bank(bank_dir).rubric("lora-principle")
    assert effective_score(turn, rubric) > turn.score

    # Saving writes v2; the file still loads, unchanged.
    store.save(t)
    again = json.loads(store.path(t.id).read_text("utf-8"))
    assert again["schema_version"] == 2
    assert store.load(t.id) == t


def test_v1_unfinished_file_keeps_the_question_in_progress_and_the_draft() -> None:
    raw = json.loads(V1_UNFINISHED.read_text("utf-8"))
    t = parse(raw)
    assert not t.finished and t.turns == []
    assert t.draft == raw["draft"] == "The rank r is usually 8 or 16 and"
    assert t.current is not None
    assert t.current.attempts[0].answer == raw["current"]["attempts"][0]["answer"]
    assert t.current.pending_probe == "trainable-params"
    assert [m.kind for m in t.current.shown] == ["question", "follow_up"]


def test_migration_steps_are_one_function_per_version() -> None:
    assert set(MIGRATIONS) == set(range(1, SCHEMA_VERSION))
    raw = json.loads(V1_FINISHED.read_text("utf-8"))
    raw["settings"]["openai_api_key"] = "sk-should-never-survive"
    out = v1_to_v2(raw)
    assert out["schema_version"] == 2
    assert "openai_api_key" not in out["settings"]
    assert "sk-should-never-survive" not in json.dumps(parse(raw).model_dump(mode="json"))


def test_newer_or_broken_files_are_clear_errors() -> None:
    raw = json.loads(V1_FINISHED.read_text("utf-8"))
    with pytest.raises(InterviewerError, match="newer interviewer"):
        parse({**raw, "schema_version": 99})
    with pytest.raises(InterviewerError, match="not a valid transcript: turns"):
        parse({**raw, "schema_version": 2, "turns": [{"question_id": 1}]})
    with pytest.raises(InterviewerError, match="expected a JSON object"):
        parse([1, 2])


# --- store --------------------------------------------------------------------------------


def test_files_are_private_and_ids_are_checked(
    interview: Interview, store: TranscriptStore
) -> None:
    t = interview(questions=1)
    path = store.path(t.id)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    for bad in ("../x", "..", "a/b", "", ".hidden", "x" * 100, "a b"):
        with pytest.raises(InterviewerError, match="not a valid interview id"):
            store.load(bad)
        with pytest.raises(InterviewerError, match="not a valid interview id"):
            store.save(t.model_copy(update={"id": bad}))
    assert not (store.folder.parent / "x.json").exists()
    # A file whose content names another interview is refused.
    shutil.copy(path, store.folder / "other-id.json")
    with pytest.raises(InterviewerError, match="holds interview"):
        store.load("other-id")


def test_missing_transcript_names_the_folder(store: TranscriptStore) -> None:
    with pytest.raises(InterviewerError, match="no transcript 'nope'"):
        store.load("nope")


WRITER = """
import sys
from pathlib import Path
from interviewer.transcript.migrate import parse
from interviewer.transcript.store import TranscriptStore
import json

src, folder = Path(sys.argv[1]), Path(sys.argv[2])
base = parse(json.loads(src.read_text("utf-8")))
store = TranscriptStore(folder)
small = base.model_copy(update={"draft": "a"})
big = base.model_copy(update={"draft": "长" * 400_000})
i = 0
while True:
    store.save(big if i % 2 else small)
    i += 1
    if i == 4:
        print("writing", flush=True)
"""


def test_kill_during_writes_leaves_a_whole_file(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    interview_id = json.loads(V1_FINISHED.read_text("utf-8"))["id"]
    store = TranscriptStore(folder)
    seen_big = seen_small = 0
    for delay in (0.0, 0.05, 0.13, 0.31, 0.5, 0.77):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(V1_FINISHED), str(folder)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        text = store.path(interview_id).read_text("utf-8")
        json.loads(text)  # never torn
        t = store.load(interview_id)
        assert t.draft in ("a", "长" * 400_000)
        seen_big += t.draft != "a"
        seen_small += t.draft == "a"
        assert oct(store.path(interview_id).stat().st_mode & 0o777) == "0o600"
    assert seen_big + seen_small == 6


def test_no_api_key_in_any_transcript(
    settings: Settings, store: TranscriptStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "OPENAI_API_KEY": "sk-test-openai-0123456789abcdef",
        "ANTHROPIC_API_KEY": "sk-ant-test-0123456789abcdef",
        "INTERVIEWER_OPENAI_API_KEY": "sk-test-interviewer-0123456789",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    from interviewer.config import load_settings

    keyed = load_settings(
        bank_dir=settings.bank_dir,
        transcripts_dir=settings.transcripts_dir,
        data_dir=settings.data_dir,
    )
    assert keyed.openai_api_key is not None  # the keys really are in the settings
    session = Session.open(keyed, InterviewContext(questions=2, seed=1, follow_up_limit=1))
    try:
        session.start()
        session.send("answer", ANSWERS["lora-principle"])
        session.save(draft="half an answer")  # a mid-interview file
        mid = store.path(session.interview_id).read_text("utf-8")
        while not session.done:
            session.send("answer", "我不知道")
    finally:
        session.close()
    final = store.path(session.interview_id).read_text("utf-8")
    for text in (mid, final):
        for value in secrets.values():
            assert value not in text
        assert "api_key" not in text and "sk-" not in text


def test_draft_is_autosaved_and_cleared_once_sent(
    settings: Settings, store: TranscriptStore
) -> None:
    session = Session.open(settings, InterviewContext(questions=1, seed=1, follow_up_limit=0))
    try:
        session.start()
        session.save(draft="LoRA 冻结 W0，")
        saved = store.load(session.interview_id)
        assert saved.draft == "LoRA 冻结 W0，" and not saved.finished
        assert saved.current is not None and saved.current.topic
        assert saved.current.shown[0].kind == "question"
        session.send("answer", "LoRA 冻结 W0，只训练 A 和 B。")
        sent = store.load(session.interview_id)
        assert sent.draft == ""
        assert sent.turns[0].attempts[0].answer == "LoRA 冻结 W0，只训练 A 和 B。"
    finally:
        session.close()


def test_reviews_survive_the_interview_going_on(settings: Settings, store: TranscriptStore) -> None:
    """An override made while the interview is unfinished is kept by later saves."""
    session = Session.open(settings, InterviewContext(questions=2, seed=3, follow_up_limit=0))
    try:
        session.start()
        first = session.values["current"]["question_id"]
        session.send("answer", ANSWERS[first])
        key_point = store.load(session.interview_id).turns[0].merged.verdicts[0].key_point
        override(store, session.interview_id, 1, key_point, "missed", "checked by hand")
        second = session.values["current"]["question_id"]
        session.send("answer", ANSWERS[second])
    finally:
        session.close()
    t = store.load(session.interview_id)
    assert t.finished and len(t.turns) == 2
    assert [(o.key_point, o.note) for o in t.turns[0].overrides] == [(key_point, "checked by hand")]


def test_leftover_temp_files_are_not_transcripts(
    interview: Interview, store: TranscriptStore
) -> None:
    """A writer killed before its rename leaves a temp file: it is never read as a
    transcript, and the next save of that interview removes it once it is stale."""
    t = interview(questions=1)
    stale = store.folder / f".{t.id}.abc.tmp"
    stale.write_text("{", "utf-8")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = store.folder / f".{t.id}.def.tmp"  # perhaps another writer's, in flight
    fresh.write_text("{", "utf-8")
    other = store.folder / ".someone-else.abc.tmp"
    other.write_text("{", "utf-8")
    os.utime(other, (old, old))
    assert store.ids() == [t.id]

    store.save(store.load(t.id))
    assert not stale.exists()
    assert fresh.exists() and other.exists()
    assert store.ids() == [t.id]


def test_a_fifo_among_the_transcripts_is_passed_over_not_read_for_ever(
    interview: Interview, store: TranscriptStore
) -> None:
    t = interview(questions=1, seed=1)
    fifo = store.folder / "20990101-000000-ffff.json"
    os.mkfifo(fifo)
    assert store.ids() == [t.id]  # a listing never opens it
    with pytest.raises(InterviewerError, match="not a regular file"):
        store.load("20990101-000000-ffff")


@pytest.mark.parametrize("version", ["2", 0, True])
def test_a_bad_schema_version_names_the_file(store: TranscriptStore, version: object) -> None:
    store.folder.mkdir(parents=True, exist_ok=True)
    path = store.folder / "20990101-000000-abcd.json"
    path.write_text(json.dumps({"schema_version": version, "id": "20990101-000000-abcd"}))
    with pytest.raises(InterviewerError, match="is not a version number") as caught:
        store.load("20990101-000000-abcd")
    assert caught.value.message.startswith(f"{path}: schema_version")
