"""Simulated candidates test the interviewer (issue 14 item 6).

One simulation runs every scripted candidate through the real graph in plain mode (offline
judge, scripted voice), in both languages and all three personas, and each behaviour check
must pass. The checks themselves are tested on hand-made runs: each can fail.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.cli.app import app
from interviewer.interview.personas import personas
from interviewer.interview.simulate import (
    CANDIDATE_NAMES,
    CHECKS,
    Asked,
    Attempted,
    Run,
    Simulation,
    check_falls,
    check_follow_ups,
    check_injection,
    check_junk,
    check_no_follow_up_after_full,
    check_no_leak,
    check_rises,
    partial_answer,
    persona_says,
    rubric_secrets,
    simulate,
    strong_answer,
)
from interviewer.judge.schema import Grade, Verdict
from tests.conftest import REPO

LANGS = ("zh", "en")
PERSONAS = ("bar-raiser", "mentor", "senior")
QUESTIONS = 2  # enough for difficulty to move and the next question to show it
SEED = 7


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(REPO)


@pytest.fixture(scope="module")
def simulation(bank: Bank) -> Simulation:
    return simulate(bank, langs=LANGS, personas=PERSONAS, seed=SEED, questions=QUESTIONS)


def test_every_candidate_sat_a_whole_interview_in_each_language_and_persona(
    simulation: Simulation,
) -> None:
    assert set(PERSONAS) == set(personas())
    seen = {(r.lang, r.persona, r.candidate) for r in simulation.runs}
    assert seen == {(lang, p, c) for lang in LANGS for p in PERSONAS for c in CANDIDATE_NAMES}
    for run in simulation.runs:
        assert len(run.questions) == QUESTIONS, run.candidate
        assert run.kinds[0] == "greeting" and run.kinds[-1] == "closing"
        assert run.output.strip().splitlines()[-1].endswith(".json")  # plain mode's last line
    rows = {(r.check, r.lang, r.persona) for r in simulation.results}
    assert rows == {(c, lang, p) for c in CHECKS for lang in LANGS for p in PERSONAS}
    assert all(r.cases > 0 for r in simulation.results), "a check looked at nothing"


@pytest.mark.parametrize(
    "check",
    list(CHECKS),
)
def test_behaviour_check_passes_in_both_languages_and_all_personas(
    simulation: Simulation, check: str
) -> None:
    rows = [r for r in simulation.results if r.check == check]
    failed = [f"{r.lang}/{r.persona}: {p}" for r in rows if not r.passed for p in r.problems]
    assert not failed, f"{check} ({CHECKS[check]}):\n" + "\n".join(failed)


def test_follow_ups_probe_open_points_once_and_never_after_dont_know(
    simulation: Simulation,
) -> None:
    # Beyond naming: every follow-up probes an open point, once, never after "I don't know".
    rows = [r for r in simulation.results if r.check == "follow-up aims at a missed point"]
    other = [p for r in rows for p in r.problems if "does not name" not in p]
    assert not other, "\n".join(other)


def test_answers_are_built_from_the_rubric(bank: Bank) -> None:
    rubric = bank.rubric("lora-principle") if "lora-principle" in bank.rubrics else None
    rubric = rubric or next(iter(bank.rubrics.values()))
    for lang in LANGS:
        full, half = strong_answer(rubric, lang), partial_answer(rubric, lang)
        assert all(kp.text.get(lang) in full for kp in rubric.key_points)
        said = [kp for kp in rubric.key_points if kp.text.get(lang) in half]
        assert 0 < len(said) < len(rubric.key_points)


# --- the checks can fail ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lora() -> Bank:
    return load_bank(REPO / "tests" / "data" / "bank")


QID = "lora-principle"


def grade(lora: Bank, covered: set[str], score: float, flags: list[str] | None = None) -> Grade:
    verdicts = [
        Verdict(key_point=kp.id, verdict="covered" if kp.id in covered else "missed")
        for kp in lora.rubric(QID).key_points
    ]
    return Grade(verdicts=verdicts, score=score, judge="test", flags=flags or [])  # type: ignore[arg-type]  # (test literals)


def attempt(
    lora: Bank, prompt: str, probes: str | None, covered: set[str], score: float
) -> Attempted:
    return Attempted(prompt=prompt, probes=probes, answer="…", grade=grade(lora, covered, score))


def a_run(
    candidate: str,
    attempts: list[Attempted],
    *,
    score: float = 50,
    target_after: int = 2,
    said: list[str] | None = None,
    answers: list[str] | None = None,
    lang: str = "zh",
) -> Run:
    said = said or ["我们开始吧。"]
    return Run(
        candidate=candidate,
        lang=lang,
        persona="senior",
        questions=[
            Asked(
                question_id=QID,
                difficulty=2,
                score=score,
                attempts=attempts,
                target_after=target_after,
            )
        ],
        said=said,
        kinds=["note"] * len(said),
        answers=answers or [],
        output="",
    )


def test_follow_up_check_wants_the_missed_point_named_once(lora: Bank) -> None:
    q = lora.question(QID)
    written = next(fu for fu in q.follow_ups if fu.probes == "low-rank-update").zh
    main = attempt(lora, q.prompt.zh, None, {"frozen-base"}, 30)
    good = a_run(
        "partial", [main, attempt(lora, f"追问一下：{written}", "low-rank-update", set(), 30)]
    )
    assert not check_follow_ups([good], lora).problems
    generic = a_run(
        "partial",
        [main, attempt(lora, "这部分说得不够具体，能再展开讲讲吗？", "low-rank-update", set(), 30)],
    )
    assert "does not name" in check_follow_ups([generic], lora).problems[0]
    covered = a_run("partial", [main, attempt(lora, written, "frozen-base", set(), 30)])
    assert "already covered" in " ".join(check_follow_ups([covered], lora).problems)
    twice = a_run(
        "partial",
        [main, *[attempt(lora, written, "low-rank-update", set(), 30) for _ in range(2)]],
    )
    assert "a second time" in " ".join(check_follow_ups([twice], lora).problems)
    after_dont_know = a_run(
        "dont-know", [main, attempt(lora, written, "low-rank-update", set(), 0)]
    )
    assert "I don't know" in " ".join(check_follow_ups([after_dont_know], lora).problems)
    assert check_follow_ups([], lora).problems == ["no follow-up was asked at all"]


def test_no_follow_up_after_full_check(lora: Bank) -> None:
    every = {kp.id for kp in lora.rubric(QID).key_points}
    full = attempt(lora, "q", None, every, 100)
    extra = attempt(lora, "more?", "low-rank-update", every, 100)
    assert not check_no_follow_up_after_full([a_run("strong", [full], score=100)], lora).problems
    problems = check_no_follow_up_after_full([a_run("strong", [full, extra], score=100)], lora)
    assert "a follow-up after answer 1" in problems.problems[0]
    half = attempt(lora, "q", None, {"frozen-base"}, 40)
    never_full = check_no_follow_up_after_full([a_run("strong", [half], score=40)], lora)
    assert "no answer covering every key point" in never_full.problems[0]


def test_difficulty_checks(lora: Bank) -> None:
    a = attempt(lora, "q", None, set(), 0)
    assert not check_rises([a_run("strong", [a], score=90, target_after=3)]).problems
    assert (
        "difficulty 2 → 2"
        in check_rises([a_run("strong", [a], score=90, target_after=2)]).problems[0]
    )
    assert "scored 50" in check_rises([a_run("strong", [a], score=50, target_after=2)]).problems[0]
    assert not check_falls([a_run("terse", [a], score=10, target_after=1)], {"terse"}).problems
    assert check_falls([a_run("terse", [a], score=10, target_after=2)], {"terse"}).problems
    assert check_falls([a_run("terse", [a], score=60, target_after=2)], {"terse"}).problems
    assert check_junk([a_run("gibberish", [a], score=0, target_after=3)]).problems
    assert not check_junk([a_run("gibberish", [a], score=0, target_after=1)]).problems


def test_leak_check_finds_rubric_text_the_candidate_did_not_say(lora: Bank) -> None:
    kp = lora.rubric(QID).key_point("merge-no-latency")
    a = attempt(lora, "q", None, set(), 0)
    leaking = a_run("terse", [a], said=["好。", f"提示：{kp.text.zh}"])
    assert "reveals" in check_no_leak([leaking], lora).problems[0]
    reference = lora.rubric(QID).reference_answer.en
    leaking_en = a_run("terse", [a], said=[f"OK. {reference}"], lang="en")
    assert check_no_leak([leaking_en], lora).problems
    term = a_run("terse", [a], said=["想想低秩分解。"])  # an evidence term, not in the question
    assert check_no_leak([term], lora).problems
    echoed = a_run("strong", [a], said=[f"你说：{kp.text.zh}"], answers=[kp.text.zh])
    assert not check_no_leak([echoed], lora).problems
    question = a_run("terse", [a], said=[lora.question(QID).prompt.zh])
    assert not check_no_leak([question], lora).problems


def test_injection_check_compares_with_the_off_topic_baseline(lora: Bank) -> None:
    def run(candidate: str, score: float, flags: list[str], said: list[str]) -> Run:
        g = grade(lora, set(), score, flags)
        return a_run(
            candidate,
            [Attempted(prompt="q", probes=None, answer="x", grade=g)],
            score=score,
            said=said,
        )

    base = run("off-topic", 0, ["off_topic"], ["q", "好。"])
    assert not check_injection([base, run("injection", 0, ["injection"], ["q", "好。"])]).problems
    assert check_injection([base, run("injection", 0, [], ["q", "好。"])]).problems  # not flagged
    assert check_injection([base, run("injection", 80, ["injection"], ["q", "好。"])]).problems
    assert check_injection(
        [base, run("injection", 0, ["injection"], ["q", "追问", "好。"])]
    ).problems


def test_simulate_command_prints_json_and_exits_1_when_a_check_fails() -> None:
    # Without the off-topic baseline (and the others) several checks cannot pass.
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--lang",
            "en",
            "--persona",
            "senior",
            "--questions",
            "1",
            "--candidate",
            "strong",
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    rows = {r["check"]: r for r in data["results"]}
    assert set(rows) == set(CHECKS)
    assert rows["difficulty rises after strong"]["passed"] is True
    assert rows["injection changes nothing"]["passed"] is False
    assert [r["candidate"] for r in data["runs"]] == ["strong"]


def test_simulate_command_rejects_unknown_names() -> None:
    result = CliRunner().invoke(app, ["simulate", "--persona", "nobody"])
    assert result.exit_code != 0 and "no persona named 'nobody'" in result.output
    result = CliRunner().invoke(app, ["simulate", "--candidate", "nobody"])
    assert result.exit_code != 0 and "no scripted candidate" in result.output


def test_the_persona_s_own_words_reveal_no_rubric(bank: Bank) -> None:
    """A bar-raiser's "What is the trade-off there?" is its own line, not the evidence term
    "trade-off" of the parallelism question; the question's reference still leaks."""
    qid = "dp-tp-pp-parallelism"
    _, terms = rubric_secrets(bank.question(qid), bank.rubric(qid), "en")
    assert "tradeoff" in terms

    def run(said: str) -> Run:
        asked = Asked(question_id=qid, difficulty=2, score=40, attempts=[], target_after=2)
        return Run(
            candidate="partial",
            lang="en",
            persona="bar-raiser",
            questions=[asked],
            said=[said],
            kinds=["follow_up"],
            answers=[],
            output="",
        )

    probe = "Tell me about the reward's absolute value. What is the trade-off there?"
    assert not check_no_leak([run(probe)], bank).problems
    reference = bank.rubric(qid).reference_answer.en
    assert check_no_leak([run(f"One direction: {reference}")], bank).problems


@pytest.mark.parametrize(
    ("persona_name", "secret", "said"),
    [
        ("bar-raiser", "tradeoff", True),  # "What is the trade-off there?"
        ("bar-raiser", "dare", False),  # "and are there": not DARE, as whole words
        ("senior", "init", False),  # "explain it"
        ("mentor", "tail", False),  # "more detail"
        ("bar-raiser", "权衡", True),  # "这里的权衡是什么？"
    ],
)
def test_what_a_persona_says_as_its_own_words(persona_name: str, secret: str, said: bool) -> None:
    assert persona_says(persona_name, secret) is said
