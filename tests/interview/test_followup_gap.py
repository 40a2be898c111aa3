"""Follow-ups that name the gap: the policy (interview/followup.py), the scripted lines
(interview/gap.py, personas), and the model voice's prompt (never the key point's text)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.bank.schema import KeyPoint
from interviewer.interview.context import InterviewContext
from interviewer.interview.followup import ALL, choose_probe, declined, says_dont_know
from interviewer.interview.graph import Deps, build_graph
from interviewer.interview.personas import persona
from interviewer.interview.state import Attempt
from interviewer.interview.voice import LLMVoice, ScriptedVoice
from interviewer.judge import offline_judge
from interviewer.judge.merge import merge
from interviewer.judge.schema import Grade, Verdict
from tests.conftest import REPO
from tests.interview.test_graph import send, start

QID = "open-source-model-families"
PERSONAS = ["senior", "mentor", "bar-raiser"]
ANSWER = {
    "zh": "开源模型有 Qwen 和 DeepSeek，还有 Llama，用了 RoPE。GPT-4 是闭源的。",
    "en": "Open models include Qwen, DeepSeek and Llama, which uses RoPE. GPT-4 is closed.",
}


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(REPO)


@pytest.fixture(scope="module")
def judge(bank: Bank) -> Any:
    j = offline_judge()
    j.learn_terms(list(bank.rubrics.values()))
    return j


def one_question(bank: Bank, qid: str) -> Bank:
    """A bank of one question without its written follow-ups: every probe uses a title."""
    q = bank.question(qid).model_copy(update={"follow_ups": []})
    return Bank(root=bank.root, questions={qid: q}, rubrics={qid: bank.rubric(qid)})


def attempt(answer: str, probes: str | None = None) -> Attempt:
    return {"prompt": "", "probes": probes, "answer": answer, "grade": {}, "at": ""}


def secrets(kp: KeyPoint) -> list[str]:
    return (
        [kp.text.zh, kp.text.en, *(kp.partial_if.zh, kp.partial_if.en)]
        if kp.partial_if
        else [
            kp.text.zh,
            kp.text.en,
        ]
    )


# --- policy ---------------------------------------------------------------------------------


def test_missed_before_partial_whatever_the_weight(bank: Bank) -> None:
    rubric = bank.rubric("lora-principle")
    q = bank.question("lora-principle")
    partial = [
        Verdict(key_point=k, verdict="partial", evidence="x")
        for k in ("low-rank-update", "frozen-base", "trainable-params", "merge-no-latency")
    ]
    merged = merge(rubric, [Grade(verdicts=partial, score=0, judge="x")], [], "x")
    kp = choose_probe(q, rubric, merged, [attempt("x")], [])
    assert kp is not None and kp.id in {"init-scaling", "target-modules"}, "weight 1 but missed"


def test_never_the_same_key_point_twice_in_a_row(bank: Bank) -> None:
    rubric = bank.rubric("lora-principle")
    q = bank.question("lora-principle")
    merged = merge(rubric, [Grade(verdicts=[], score=0, judge="x")], [], "x")
    first = choose_probe(q, rubric, merged, [attempt("x")], [])
    assert first is not None
    second = choose_probe(q, rubric, merged, [attempt("x"), attempt("y", first.id)], [first.id])
    assert second is not None and second.id != first.id


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("LoRA 冻结 W0，只训练 A 和 B。至于合并部署我不太清楚。", {"merge-no-latency"}),
        (
            "LoRA freezes W0 and trains A and B. I'm not sure about inference latency after deployment.",
            {"merge-no-latency"},
        ),
        ("LoRA 冻结 W0，只训练 A 和 B。其他的我就不清楚了。", ALL),
        ("LoRA freezes W0 and trains A and B. Not sure about the rest.", ALL),
        ("不知道", ALL),
        ("I don't know", ALL),
        (
            "我不知道具体数值，但 LoRA 把权重更新写成两个低秩矩阵的乘积，只训练这两个矩阵，原来的权重冻结。",
            set(),
        ),
    ],
)
def test_declined_points(bank: Bank, answer: str, expected: object) -> None:
    assert declined(bank.rubric("lora-principle"), [attempt(answer)]) == expected


def test_a_declined_point_is_never_probed(bank: Bank) -> None:
    rubric = bank.rubric("lora-principle")
    q = bank.question("lora-principle")
    merged = merge(rubric, [Grade(verdicts=[], score=0, judge="x")], [], "x")
    said = [attempt("LoRA 冻结 W0。低秩更新这块我不太清楚，初始化也没了解过。")]
    probed: list[str] = []
    while (kp := choose_probe(q, rubric, merged, said, probed)) is not None:
        probed.append(kp.id)
    assert "low-rank-update" not in probed and "init-scaling" not in probed
    assert probed, "the other points are still asked about"
    assert choose_probe(q, rubric, merged, [attempt("其他的我都不清楚了。")], []) is None


def test_a_short_correct_answer_with_buhui_is_not_dont_know() -> None:
    assert not says_dont_know("推理时合并回去，不会增加延迟。")
    assert says_dont_know("这个我不会")


# --- scripted lines: every persona, both languages -----------------------------------------


@pytest.mark.parametrize("name", PERSONAS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scripted_follow_up_names_the_title_not_the_answer(
    bank: Bank, judge: Any, name: str, lang: str
) -> None:
    one = one_question(bank, QID)
    deps = Deps(
        bank=one, judge_for=lambda s: judge, voice_for=lambda c: ScriptedVoice(persona(c.persona))
    )
    graph = build_graph(deps, InMemorySaver())
    ctx = InterviewContext(questions=1, seed=0, lang=lang, persona=name, follow_up_limit=2)
    config, _ = start(graph, ctx, thread=f"{name}-{lang}")
    rubric = one.rubric(QID)
    lines = []
    for reply in (ANSWER[lang], "vLLM." if lang == "en" else "我用 vLLM 部署过。"):
        state = send(graph, config, ctx, "answer", reply)
        if state["messages"][-1]["kind"] != "follow_up":
            break
        lines.append(state["messages"][-1]["text"])
        probed = state["current"]["probed"]
        kp = rubric.key_point(probed[-1])
        text = state["messages"][-1]["text"]
        assert kp.title is not None and kp.title.get(lang) in text, "the gap is named"
        for secret in secrets(kp):
            assert secret not in text
        said = ANSWER[lang] + reply
        for term in kp.evidence.terms():
            assert term in said or term in kp.title.get(lang) or term not in text, term
    assert len(lines) == 2 and lines[0] != lines[1]
    assert "你提到了 Qwen 和 DeepSeek" in "".join(lines) or lang == "en" or name != "senior"
    assert all("说得不够具体，能再展开讲讲吗" not in t for t in lines)


def test_no_persona_keeps_a_topicless_follow_up() -> None:
    for name in PERSONAS:
        for kind in ("probe", "probe_said", "probe_partial", "probe_deeper"):
            for turn in range(2):
                for lang in ("zh", "en"):
                    line = persona(name).line(kind, lang, turn, title="TITLE", said="SAID")
                    assert "TITLE" in line, (name, kind, lang)


# --- model voice: the key point's text never reaches the prompt ----------------------------


@dataclass
class RecordingProvider:
    """A fake provider that records every prompt and replies with a fixed line."""

    reply: str = "那么许可证方面呢？"
    prompts: list[tuple[str, list[dict[str, str]]]] = field(default_factory=list)
    spec: str = "fake"

    async def stream(self, system: str, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        self.prompts.append((system, messages))
        for part in (self.reply[:3], self.reply[3:]):
            yield part


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_model_voice_gets_the_title_and_id_never_the_text(
    bank: Bank, judge: Any, lang: str
) -> None:
    one = one_question(bank, QID)
    provider = RecordingProvider()

    def voice_for(ctx: InterviewContext) -> LLMVoice:
        scripted = ScriptedVoice(persona(ctx.persona))
        return LLMVoice(persona=scripted.persona, provider=provider, fallback=scripted)

    graph = build_graph(
        Deps(bank=one, judge_for=lambda s: judge, voice_for=voice_for), InMemorySaver()
    )
    ctx = InterviewContext(questions=1, seed=0, lang=lang, follow_up_limit=2, interviewer="x")
    config, _ = start(graph, ctx, thread=f"llm-{lang}")
    state = send(graph, config, ctx, "answer", ANSWER[lang])
    assert state["messages"][-1]["text"] == provider.reply, "the model's words are used"
    probes = [p for p in provider.prompts if "follow-up question" in p[0]]
    assert probes, "the follow-up went to the model"
    rubric = one.rubric(QID)
    kp = rubric.key_point(state["current"]["probed"][-1])
    system, _ = probes[-1]
    assert kp.title is not None and kp.title.get(lang) in system and kp.id in system
    everything = "\n".join(s + "".join(m["content"] for m in ms) for s, ms in provider.prompts)
    for point in rubric.key_points:
        for secret in secrets(point):
            assert secret not in everything
    assert rubric.reference_answer.zh not in everything
    assert rubric.reference_answer.en not in everything
