"""The reviewed-answer view: verdict rows with marks and credit, evidence spans located as
the judges locate them, the best verdict across answers, and quotes found only after
normalisation."""

from __future__ import annotations

import json

import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.bank.schema import Rubric
from interviewer.judge.merge import merge
from interviewer.judge.normalize import verify
from interviewer.judge.schema import Grade, MisconceptionFound, Verdict
from interviewer.judge.scoring import score
from interviewer.transcript.export import export
from interviewer.transcript.marks import GLYPHS, Mark
from interviewer.transcript.migrate import parse
from interviewer.transcript.schema import Attempt, Current, Override, Transcript, Turn
from interviewer.transcript.view import attempt_view, find, turn_view
from tests.transcript.conftest import DATA

QID = "lora-principle"
FIRST = "LoRA 把 ΔW 写成 B 乘 A 两个小矩阵。W0 好像是冻结的吧。"
SECOND = "补充一下：W0 冻结，只训练 A 和 B；推理时把 BA 合并回 W0，不增加延迟。"


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(DATA / "bank")


@pytest.fixture(scope="module")
def fixed() -> Transcript:
    return parse(json.loads((DATA / "v2-reviewed.json").read_text("utf-8")))


def graded(rubric: Rubric, verdicts: list[Verdict], **extra: object) -> Grade:
    misconceptions = list(extra.pop("misconceptions", []))  # type: ignore[call-overload]
    filled = {v.key_point: v for v in verdicts}
    full = [
        filled.get(kp.id, Verdict(key_point=kp.id, verdict="missed")) for kp in rubric.key_points
    ]
    return Grade(
        verdicts=full,
        misconceptions=misconceptions,
        score=score(rubric, full, misconceptions),
        judge="offline",
    )


def attempt(answer: str, grade: Grade, probes: str | None = None) -> Attempt:
    return Attempt(
        prompt="?", probes=probes, answer=answer, at="2026-11-23T09:00:00+00:00", grade=grade
    )


def two_answers(bank: Bank, overrides: list[Override] | None = None) -> Turn:
    """frozen-base: partial in the first answer, covered in the follow-up."""
    rubric = bank.rubric(QID)
    g1 = graded(
        rubric,
        [
            Verdict(
                key_point="low-rank-update",
                verdict="covered",
                evidence="把 ΔW 写成 B 乘 A 两个小矩阵",
            ),
            Verdict(key_point="frozen-base", verdict="partial", evidence="W0 好像是冻结的吧"),
        ],
    )
    g2 = graded(
        rubric,
        [
            Verdict(key_point="frozen-base", verdict="covered", evidence="W0 冻结，只训练 A 和 B"),
            Verdict(
                key_point="merge-no-latency",
                verdict="covered",
                evidence="推理时把 BA 合并回 W0，不增加延迟",
                credit=0.8,
            ),
        ],
    )
    merged = merge(rubric, [g1, g2], [], "offline")
    return Turn(
        question_id=QID,
        topic="lora",
        difficulty=2,
        attempts=[attempt(FIRST, g1), attempt(SECOND, g2, probes="frozen-base")],
        merged=merged,
        score=merged.score,
        overrides=overrides or [],
    )


def test_one_glyph_per_mark() -> None:
    assert set(GLYPHS) == set(Mark)
    assert len(set(GLYPHS.values())) == len(Mark)
    assert f"{Mark('partial').glyph} {Mark('partial')}" == "~ partial"


def test_rows_carry_the_best_verdict_across_answers(bank: Bank) -> None:
    view = turn_view(1, two_answers(bank), "zh", bank)
    rows = {r.key_point: r for r in view.rows}
    assert [r.key_point for r in view.rows] == [kp.id for kp in bank.rubric(QID).key_points]
    frozen = rows["frozen-base"]
    assert frozen.judge is Mark.COVERED and frozen.reviewer is None and frozen.mark is Mark.COVERED
    # Its quote comes from the follow-up (the second answer), where it is found.
    assert frozen.evidence is not None and frozen.evidence.attempt == 2
    start, end = frozen.evidence.span or (0, 0)
    assert SECOND[start:end] == "W0 冻结，只训练 A 和 B"
    assert rows["low-rank-update"].evidence is not None
    assert rows["low-rank-update"].evidence.attempt == 1
    # Credit: the judge's finer credit when it gave one, else the verdict's.
    assert rows["merge-no-latency"].credit == pytest.approx(0.8)
    assert rows["frozen-base"].credit == 1.0 and rows["init-scaling"].credit == 0.0
    assert rows["init-scaling"].judge is Mark.MISSED and rows["init-scaling"].evidence is None
    # Titles and statements in the transcript's language.
    kp = bank.rubric(QID).key_point("frozen-base")
    assert frozen.statement == kp.text.zh
    assert turn_view(1, two_answers(bank), "en", bank).rows[1].statement == kp.text.en
    # The running grade after each answer: the follow-up added frozen-base and merge.
    second = view.attempts[1].step
    assert second is not None and set(second.gained) == {"frozen-base", "merge-no-latency"}
    assert view.attempts[1].probes == "frozen-base" and view.finished


def test_a_reviewer_override_is_the_mark_that_counts(bank: Bank) -> None:
    at = "2026-11-24T09:00:00+00:00"
    overrides = [
        Override(key_point="init-scaling", verdict="covered", note="first", at=at),
        Override(key_point="init-scaling", verdict="partial", note="newest wins", at=at),
    ]
    view = turn_view(1, two_answers(bank, overrides), "zh", bank)
    row = next(r for r in view.rows if r.key_point == "init-scaling")
    assert row.judge is Mark.MISSED and row.reviewer is Mark.PARTIAL and row.mark is Mark.PARTIAL
    assert row.overridden and row.note == "newest wins"
    assert view.score > view.live_score  # the override is weighed by the rubric


def test_evidence_runs_cover_the_answer_and_name_what_they_prove(bank: Bank) -> None:
    rubric = bank.rubric(QID)
    answer = "LoRA 冻结 W0。只训练 A 和 B，推理时合并。"
    grade = graded(
        rubric,
        [
            Verdict(key_point="frozen-base", verdict="covered", evidence="冻结 W0。只训练 A 和 B"),
            Verdict(
                key_point="merge-no-latency",
                verdict="partial",
                evidence="只训练 A 和 B，推理时合并",
            ),
        ],
        misconceptions=[MisconceptionFound(id="all-weights", evidence="推理时合并", penalty=10)],
    )
    view = attempt_view(1, attempt(answer, grade), None)
    assert "".join(r.text for r in view.runs) == answer
    by_text = {r.text: r for r in view.runs}
    assert by_text["LoRA "].cites == []
    both = by_text["只训练 A 和 B"]
    assert both.labels == ["frozen-base: covered", "merge-no-latency: partial"]
    assert both.strongest is Mark.COVERED and not both.misconception
    assert by_text["，"].strongest is Mark.PARTIAL
    wrong = by_text["推理时合并"]
    assert wrong.misconception and wrong.labels[-1] == "misconception all-weights"
    assert view.missing == []


def test_a_quote_found_only_after_normalisation_is_shown_found(bank: Bank) -> None:
    """Case, width, spacing and punctuation differ from the answer: the judges verify the
    quote, so it is highlighted where it is, not reported missing (review item 12)."""
    rubric = bank.rubric(QID)
    answer = "ＬｏＲＡ 的做法：W0 冻结，只训练 A 和 B。"
    quote = "lora的做法 w0冻结 只训练a和b"
    assert answer.find(quote) < 0
    assert verify(quote, answer, "covered") == ("covered", True)
    grade = graded(rubric, [Verdict(key_point="frozen-base", verdict="covered", evidence=quote)])
    view = attempt_view(1, attempt(answer, grade), None)
    assert view.missing == []
    cited = [r for r in view.runs if r.cites]
    assert [r.text for r in cited] == ["ＬｏＲＡ 的做法：W0 冻结，只训练 A 和 B"]
    assert cited[0].labels == ["frozen-base: covered"]
    # And every renderer shows it so.
    turn = Turn(
        question_id=QID,
        topic="lora",
        difficulty=2,
        attempts=[attempt(answer, grade)],
        merged=grade,
        score=grade.score,
    )
    t = Transcript.model_validate(
        {
            "id": "20261123-090000-abcd",
            "created": "2026-11-23T09:00:00+00:00",
            "updated": "2026-11-23T09:00:00+00:00",
            "settings": {},
            "turns": [turn.model_dump()],
        }
    )
    row = turn_view(1, t.turns[0], "zh", bank).rows[1]
    assert row.evidence is not None and row.evidence.found
    for fmt in ("md", "html"):
        assert "quote not found" not in export(t, fmt, bank)  # type: ignore[arg-type]


def test_a_quote_across_invisible_characters_is_shown_on_the_answer_as_typed() -> None:
    """The judges read the answer without invisible characters (a soft hyphen, a variation
    selector, a Hangul filler: some are not dropped by normalising); the span shown is the
    candidate's own text, with those characters in it."""
    answer = "LoRA 冻\u034f结预训练\u00ad权重，只训练\ufe0f A 和 B。"
    assert find("冻结预训练权重，只训练 A 和 B", answer) == (5, 25)
    assert answer[5:25] == "冻\u034f结预训练\u00ad权重，只训练\ufe0f A 和 B"
    assert find("LoRA 冻结", answer) == (0, 8)
    assert find("推理时合并", answer) is None


def test_a_quote_not_in_the_answer_is_missing(bank: Bank) -> None:
    rubric = bank.rubric(QID)
    grade = graded(
        rubric, [Verdict(key_point="frozen-base", verdict="covered", evidence="全量微调")]
    )
    view = attempt_view(1, attempt("W0 冻结。", grade), None)
    assert [(m.quote, m.found, m.cite.label) for m in view.missing] == [
        ("全量微调", False, "frozen-base: covered")
    ]
    assert [r.cites for r in view.runs] == [[]]


def test_the_question_in_progress_has_answers_and_no_rows(bank: Bank) -> None:
    rubric = bank.rubric(QID)
    grade = graded(
        rubric, [Verdict(key_point="frozen-base", verdict="partial", evidence="W0 冻结")]
    )
    current = Current(question_id=QID, attempts=[attempt("W0 冻结。", grade)])
    view = turn_view(3, current, "zh", bank)
    assert not view.finished and view.rows == [] and view.number == 3
    assert view.prompt == bank.question(QID).prompt.zh and view.question == view.prompt
    assert view.attempts[0].step is not None and view.attempts[0].step.score == grade.score


def test_without_a_bank_rows_keep_ids_and_no_statement(fixed: Transcript) -> None:
    turn = fixed.turns[0]
    view = turn_view(1, turn, "zh", None)
    assert [r.key_point for r in view.rows] == [v.key_point for v in turn.merged.verdicts]
    assert all(r.statement == "" and r.title == "" for r in view.rows)
    assert all(a.step is None for a in view.attempts)
    assert view.question == next(m.text for m in turn.shown if m.kind == "question")
    # The judges' verdict is the newest regrade's; the reviewer's override is beside it.
    row = next(r for r in view.rows if r.key_point == "example-efficiency")
    assert turn.merged.verdict("example-efficiency").verdict == "missed"
    assert turn.regrades[-1].merged.verdict("example-efficiency").verdict == "partial"
    assert row.judge is Mark.PARTIAL and view.judge == turn.regrades[-1].merged.judge
    assert row.reviewer is Mark.PARTIAL and not row.overridden
