"""Review functions on real offline interviews: listing, overrides, regrades, agreement,
progress over time."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from interviewer.bank.bank import Bank
from interviewer.errors import InterviewerError
from interviewer.judge import offline_judge
from interviewer.judge.offline import OfflineJudge
from interviewer.judge.schema import Grade, Verdict
from interviewer.judge.scoring import score
from interviewer.judge.verdict_model import load_model
from interviewer.transcript.history import progress, topic_averages, weak_topics
from interviewer.transcript.review import (
    agreement,
    carry_regrades,
    effective_score,
    effective_verdicts,
    override,
    regrade,
    summaries,
)
from interviewer.transcript.store import TranscriptStore
from tests.transcript.conftest import Interview


def test_summaries_newest_first_and_unreadable_files_are_entries(
    interview: Interview, store: TranscriptStore, bank: Bank
) -> None:
    first = interview(questions=1, seed=1)
    second = interview(questions=2, seed=2)
    # Same-second ids sort by id; make the order unambiguous.
    first.created = "2020-01-01T00:00:00+00:00"
    store.save(first)
    (store.folder / "broken-1.json").write_text("{not json", "utf-8")
    (store.folder / "broken-2.json").write_text('{"schema_version": 2, "id": 3}', "utf-8")
    (store.folder / "not an id.json").write_text("{}", "utf-8")

    items = summaries(store.folder, bank)
    assert [s.id for s in items] == [second.id, first.id, "broken-1", "broken-2"]
    assert items[0].turns == 2 and items[0].finished and items[0].error is None
    assert items[0].overall == second.report.overall  # type: ignore[union-attr]
    assert items[0].topics == second.topics
    assert "cannot read the transcript" in (items[2].error or "")
    assert "not a valid transcript" in (items[3].error or "")
    assert summaries(store.folder / "nowhere", bank) == []


def test_override_persists_and_changes_the_effective_score(
    interview: Interview, store: TranscriptStore, bank: Bank
) -> None:
    t = interview(questions=1, seed=4)
    turn = t.turns[0]
    rubric = bank.rubric(turn.question_id)
    assert effective_score(turn, rubric) == turn.score  # no review yet: the live score
    covered = [v.key_point for v in turn.merged.verdicts if v.verdict == "covered"]
    assert covered, "the strong answer covers something"
    kp = max(covered, key=lambda k: rubric.key_point(k).weight)

    override(store, t.id, 1, kp, "missed", "the quote is about something else")
    loaded = store.load(t.id)
    reviewed = loaded.turns[0]
    assert reviewed.overrides[0].key_point == kp and reviewed.overrides[0].at
    assert reviewed.overrides[0].note == "the quote is about something else"
    assert effective_verdicts(reviewed)[kp] == "missed"
    lower = effective_score(reviewed, rubric)
    assert lower < turn.score
    # The overridden point earns its new verdict's credit; the others keep the judge's.
    judged = {v.key_point: v for v in reviewed.merged.verdicts}
    expected = score(
        rubric,
        [
            Verdict(key_point=k, verdict="missed") if k == kp else judged[k]
            for k in effective_verdicts(reviewed)
        ],
        reviewed.merged.misconceptions,
    )
    assert lower == expected
    # The newest override of a key point wins; the history stays.
    override(store, t.id, 1, kp, "covered", "on second thought")
    again = store.load(t.id).turns[0]
    assert len(again.overrides) == 2
    assert effective_score(again, rubric) == turn.score
    assert summaries(store.folder, bank)[0].overrides == 2


@pytest.mark.parametrize(
    ("turn", "key_point", "verdict", "message"),
    [
        (0, "frozen-base", "covered", "has no turn 0: its turns are 1-1"),
        (2, "frozen-base", "covered", "has no turn 2: its turns are 1-1"),
        (1, "no-such-point", "covered", "has no key point 'no-such-point'"),
        (1, "frozen-base", "great", "verdict must be covered, partial or missed"),
    ],
)
def test_override_errors_are_clear_and_save_nothing(
    interview: Interview,
    store: TranscriptStore,
    turn: int,
    key_point: str,
    verdict: str,
    message: str,
) -> None:
    t = interview(questions=1, seed=4, answers={}, follow_ups=0)
    if t.turns[0].question_id != "lora-principle":
        key_point = key_point.replace("frozen-base", t.turns[0].merged.verdicts[0].key_point)
    before = store.path(t.id).read_bytes()
    with pytest.raises(InterviewerError, match=message):
        override(store, t.id, turn, key_point, verdict, "")
    assert store.path(t.id).read_bytes() == before


def test_regrade_restores_grades_that_were_changed(
    interview: Interview, store: TranscriptStore, bank: Bank
) -> None:
    """The stored grades are replaced by all-missed ones; the offline judge, grading the same
    answers again, must find what the live grading found."""
    t = interview(questions=2, seed=5, follow_ups=0)
    live = {turn.question_id: turn.merged for turn in t.turns}
    assert any(g.score > 0 for g in live.values())
    for turn in t.turns:
        blank = Grade(
            verdicts=[
                Verdict(key_point=v.key_point, verdict="missed") for v in turn.merged.verdicts
            ],
            score=0.0,
            judge="tampered",
        )
        turn.merged = blank
        turn.score = 0.0
        for a in turn.attempts:
            a.grade = blank
    store.save(t)
    tampered = store.load(t.id)

    result = regrade(tampered, offline_judge(), bank)
    assert result.judge == "offline" and result.changed
    for r, turn in zip(result.turns, tampered.turns, strict=True):
        good = live[turn.question_id]
        assert r.old_score == 0.0
        assert r.new_score == good.score
        assert {c.key_point for c in r.changed} == {
            v.key_point for v in good.verdicts if v.verdict != "missed"
        }
        assert all(c.old == "missed" for c in r.changed)
        # Old grades are kept; the regrade is recorded with a grade per answer.
        assert turn.merged.judge == "tampered"
        assert all(a.grade.judge == "tampered" for a in turn.attempts)
        assert len(turn.regrades) == 1
        record = turn.regrades[0]
        assert record.judge == "offline" and record.old_score == 0.0
        assert record.new_score == good.score
        assert len(record.grades) == len(turn.attempts)
        assert effective_score(turn, bank.rubric(turn.question_id)) == good.score
    store.save(tampered)
    assert store.load(t.id).turns[0].regrades[0].merged.judge == "offline"


def test_a_regrade_keeps_an_override_saved_while_it_graded(
    interview: Interview, store: TranscriptStore, bank: Bank
) -> None:
    """The regrade grades a copy loaded before a reviewer's override was saved; saving it
    carries its records onto the newest transcript, so the override stays."""
    t = interview(questions=1, seed=5, follow_ups=0)
    graded = store.load(t.id)
    key_point = graded.turns[0].merged.verdicts[0].key_point
    override(store, t.id, 1, key_point, "partial", "saved while the judge worked")
    regrade(graded, offline_judge(), bank)
    store.update(t.id, lambda latest: carry_regrades(graded, latest))
    saved = store.load(t.id).turns[0]
    assert [o.note for o in saved.overrides] == ["saved while the judge worked"]
    assert [r.judge for r in saved.regrades] == ["offline"]
    assert effective_verdicts(saved)[key_point] == "partial"  # the reviewer's word stands


def test_a_regrade_is_not_carried_onto_answers_it_did_not_grade(
    interview: Interview, store: TranscriptStore, bank: Bank
) -> None:
    t = interview(questions=1, seed=5, follow_ups=0)
    graded = store.load(t.id)
    regrade(graded, offline_judge(), bank)
    replaced = store.load(t.id)
    replaced.turns[0].attempts[0].answer = "a different answer"
    store.save(replaced)
    with pytest.raises(InterviewerError, match="changed while it was regraded"):
        store.update(t.id, lambda latest: carry_regrades(graded, latest))
    assert store.load(t.id).turns[0].regrades == []


def test_regrade_of_untouched_grades_changes_nothing(interview: Interview, bank: Bank) -> None:
    t = interview(questions=3, seed=6, follow_ups=1)
    result = regrade(t, offline_judge(), bank)
    assert not result.changed
    assert [r.new_score for r in result.turns] == [turn.score for turn in t.turns]


def test_regrade_needs_the_questions_rubrics(interview: Interview, bank: Bank) -> None:
    t = interview(questions=1, seed=1)
    t.turns[0].question_id = "gone-from-the-bank"
    with pytest.raises(InterviewerError, match="no rubric for gone-from-the-bank"):
        regrade(t, offline_judge(), bank)


def test_agreement_per_judge_from_overrides_and_regrades(
    interview: Interview, store: TranscriptStore, bank: Bank
) -> None:
    """Two real judges: the offline judge as fitted (live) and the same judge with much
    stricter thresholds (a regrade); a reviewer decides three key points."""
    t = interview(questions=1, seed=4, follow_ups=0)
    strict = replace(load_model(), partial_at=0.9, covered_at=0.97)
    second = OfflineJudge(model=strict, spec="offline:defaults")
    regrade(t, second, bank)
    store.save(t)
    turn = t.turns[0]
    live = {v.key_point: v.verdict for v in turn.merged.verdicts}
    other = {v.key_point: v.verdict for v in turn.regrades[0].merged.verdicts}
    human = {}
    for kp in list(live)[:3]:
        human[kp] = (
            live[kp] if len(human) != 1 else ("missed" if live[kp] != "missed" else "covered")
        )
        override(store, t.id, 1, kp, "partial", "first thought")
        override(store, t.id, 1, kp, human[kp], "final")  # the newest counts
    interview(questions=1, seed=9)  # an interview with no overrides is not counted

    report = agreement(store.folder)
    assert report.interviews == 1 and report.key_points == 3
    by_judge = {j.judge: j for j in report.judges}
    assert set(by_judge) == {"offline", "offline:defaults"}
    for spec, said in (("offline", live), ("offline:defaults", other)):
        agreed = sum(said[kp] == v for kp, v in human.items())
        assert (by_judge[spec].agreed, by_judge[spec].compared) == (agreed, 3)
        assert by_judge[spec].rate == round(agreed / 3, 4)
    assert by_judge["offline"].agreed == 2
    assert json.loads(report.model_dump_json())["judges"][0]["judge"] == "offline"


def test_progress_over_time_and_weak_topics(
    interview: Interview, store: TranscriptStore, bank: Bank
) -> None:
    weak = {"lora-principle": "LoRA 就是一种微调方法，效果不错。"}
    interview(questions=3, seed=1, answers=weak, follow_ups=0)
    interview(questions=3, seed=2, answers=weak, follow_ups=0)
    (store.folder / "junk.json").write_text("[]", "utf-8")

    averages = topic_averages(store.folder, bank)
    assert set(averages) == {"lora", "coding"}
    assert averages["lora"] < averages["coding"]
    assert weak_topics(store.folder, bank=bank) == ["lora", "coding"]
    assert weak_topics(store.folder, limit=1, bank=bank) == ["lora"]

    p = progress(store.folder, bank)
    assert p.interviews == 2 and p.answers == 6
    assert [t.topic for t in p.topics] == ["lora", "coding"]
    assert p.focus[0] == "lora"
    lora = p.topics[0]
    assert lora.answers == 2 and lora.interviews == 2
    worst = p.weakest[0]
    assert worst.question_id == "lora-principle" and worst.missed == 2 and worst.seen == 2
    assert worst.text  # the key point's statement from the bank
    assert len(p.timeline) == 2
    assert p.skipped_files and p.skipped_files[0].startswith("junk:")

    # A reviewer's override moves the average.
    t = store.load(p.timeline[0].id)
    i = next(i for i, turn in enumerate(t.turns, 1) if turn.topic == "lora")
    for kp in [v.key_point for v in t.turns[i - 1].merged.verdicts]:
        override(store, t.id, i, kp, "covered", "")
    assert topic_averages(store.folder, bank)["lora"] > averages["lora"]


def test_weak_topics_of_an_empty_folder(tmp_path: Path) -> None:
    assert weak_topics(tmp_path / "none") == []
