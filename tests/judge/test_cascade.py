"""Cascade grading: the band's fit, the spec, and the judge against a scripted server (only
answers whose offline score is uncertain reach it)."""

from __future__ import annotations

import json

import pytest

from interviewer.bank.schema import Question, Rubric
from interviewer.config import JudgeSpec, load_settings
from interviewer.errors import ConfigError
from interviewer.judge import cache_name, make_judge, offline_judge
from interviewer.judge.cascade import CascadeBand, figures, fit_band, fitted_band
from interviewer.judge.llm import LLMJudge
from interviewer.judge.offline import OfflineJudge
from tests.judge.conftest import STRONG
from tests.judge.test_llm_faults import good_reply
from tests.support.scripted_http import ScriptedServer, Step, chat_reply

Lora = tuple[Question, Rubric]


def test_fit_keeps_out_only_where_offline_is_right() -> None:
    # Offline is exact below 30 and from 70 up, and 40 points off in between.
    right = [(float(s), float(s)) for s in (0, 5, 10, 20, 25, 70, 80, 90, 95, 100)]
    wrong = [(float(s), float(s) + 40 if s < 50 else float(s) - 40) for s in (30, 40, 50, 60, 65)]
    band = fit_band(right + wrong, tolerance=15, max_bad_share=0.0)
    assert (band.low, band.high) == (30, 70)
    got = figures(band, right + wrong)
    assert got.sent_share == pytest.approx(5 / 15, abs=1e-3)
    assert got.kept_bad_share == 0.0
    assert got.offline_bad_share == pytest.approx(5 / 15, abs=1e-3)


def test_fit_sends_everything_when_offline_is_never_right() -> None:
    pairs = [(float(s), 100.0 - s) for s in range(0, 40, 5)]
    band = fit_band(pairs, tolerance=15, max_bad_share=0.0)
    assert all(band.uncertain(s) for s, _ in pairs)
    assert figures(band, pairs).sent_share == 1.0


def test_a_looser_rule_sends_fewer() -> None:
    pairs = [(float(s), float(s) + (30 if 20 <= s < 60 else 0)) for s in range(0, 100, 2)]
    strict = figures(fit_band(pairs, max_bad_share=0.0), pairs)
    loose = figures(fit_band(pairs, max_bad_share=0.3), pairs)
    assert loose.sent_share < strict.sent_share
    assert loose.kept_bad_share <= 0.3


def test_the_shipped_band_was_fitted_and_measured() -> None:
    band = fitted_band()
    assert 0 <= band.low < band.high <= 101
    held = band.meta["figures"]["held"]
    assert held["kept_bad_share"] < held["offline_bad_share"]


def test_the_shipped_band_was_fitted_with_the_shipped_judge() -> None:
    # A refitted verdict model moves the offline scores, and with them the band's rule.
    fitted_with = fitted_band().meta["judge_fingerprint"]
    assert fitted_with == offline_judge().fingerprint, (
        f"the cascade band was fitted with {fitted_with}: refit it with "
        "`python -m benchmarks.fit_cascade`"
    )


def test_spec() -> None:
    spec = JudgeSpec.parse("cascade:openai:gpt-4o-mini")
    assert (spec.provider, spec.model, spec.cascade) == ("openai", "gpt-4o-mini", True)
    assert str(spec) == "cascade:openai:gpt-4o-mini"
    assert str(spec.model_spec) == "openai:gpt-4o-mini"
    for bad in ("cascade:offline", "cascade:cascade:openai:x", "cascade:"):
        with pytest.raises(ConfigError):
            JudgeSpec.parse(bad)


def test_cache_names_differ_from_the_model_alone() -> None:
    settings = load_settings(openai_api_key="sk-test")
    plain = cache_name(JudgeSpec.parse("openai:gpt-4o-mini"), settings)
    cascade = cache_name(JudgeSpec.parse("cascade:openai:gpt-4o-mini"), settings)
    assert plain != cascade and cascade.startswith("cascade:openai:gpt-4o-mini@")


def cascade_judge(url: str, low: float, high: float) -> LLMJudge:
    settings = load_settings(openai_base_url=f"{url}/v1", timeout=5.0)
    judge = make_judge("cascade:compatible:scripted", settings)
    assert isinstance(judge, LLMJudge)
    judge.cascade = CascadeBand(low=low, high=high)
    judge.retry_wait = 0.05
    return judge


async def test_certain_answers_keep_the_offline_grade(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    offline = judge.grade(q, r, STRONG)
    with ScriptedServer([Step(body=chat_reply(json.dumps(good_reply(r))))]) as srv:
        cascade = cascade_judge(srv.url, low=0, high=max(1.0, offline.score - 1))
        grade = await cascade.agrade(q, r, STRONG)
        asked = len(srv.script.requests)
        await cascade.aclose()
    assert asked == 0
    assert grade.score == offline.score
    assert grade.verdicts == offline.verdicts
    assert grade.judge == "offline (cascade, compatible:scripted not asked)"
    assert any("outside the uncertain band" in n for n in grade.notes)
    assert (cascade.sent, cascade.kept) == (0, 1)
    assert cascade.spec == "cascade:compatible:scripted"


async def test_uncertain_answers_go_to_the_model(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    offline = judge.grade(q, r, STRONG)
    with ScriptedServer([Step(body=chat_reply(json.dumps(good_reply(r))))]) as srv:
        cascade = cascade_judge(srv.url, low=0, high=offline.score + 1)
        grade = await cascade.agrade(q, r, STRONG)
        asked = len(srv.script.requests)
        await cascade.aclose()
    assert asked == 1
    assert grade.judge == "cascade:compatible:scripted"
    assert grade.score == pytest.approx(83.33)  # the model's verdicts, scored by us
    assert (cascade.sent, cascade.kept) == (1, 0)
