from __future__ import annotations

import pytest

from interviewer.bank.loader import load_bank
from interviewer.bank.schema import Question, Rubric
from interviewer.judge.normalize import locate
from interviewer.judge.offline import OfflineJudge, _claim, _correction
from interviewer.judge.scoring import score
from tests.conftest import REPO
from tests.judge.conftest import STRONG

Lora = tuple[Question, Rubric]


def test_same_answer_same_grade(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    grades = [judge.grade(q, r, STRONG) for _ in range(3)]
    dumps = {g.model_dump_json(exclude={"latency_ms"}) for g in grades}
    assert len(dumps) == 1


def test_strong_answer_scores_high_with_real_quotes(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    grade = judge.grade(q, r, STRONG)
    assert grade.score >= 60
    assert grade.score == score(r, grade.verdicts, grade.misconceptions)
    for v in grade.verdicts:
        if v.verdict != "missed":
            assert locate(v.evidence, STRONG) is not None, v


def test_english_answer_to_chinese_question(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    answer = (
        "LoRA assumes the weight update during fine-tuning has a low rank, so it writes it as "
        "the product of two small matrices B and A. The pretrained weight W0 stays frozen and "
        "only A and B are trained. After training you can merge BA into W0, so there is no "
        "extra inference latency."
    )
    grade = judge.grade(q, r, answer)
    covered = {v.key_point for v in grade.verdicts if v.verdict != "missed"}
    assert {"low-rank-update", "frozen-base", "merge-no-latency"} <= covered
    assert grade.misconceptions == []


@pytest.mark.parametrize(
    "answer",
    [
        "LoRA 训练完把 BA 合并进 W0 之后，不会增加推理延迟。",
        "Once BA is merged into W0, LoRA does not add inference latency.",
    ],
)
def test_negated_claim_is_not_a_misconception(lora: Lora, judge: OfflineJudge, answer: str) -> None:
    q, r = lora
    grade = judge.grade(q, r, answer)
    assert "adds-latency" not in [m.id for m in grade.misconceptions]


@pytest.mark.parametrize(
    "answer",
    [
        "LoRA 多了两个矩阵，所以一定会增加推理延迟。",
        "Because of the extra matrices, LoRA always adds inference latency.",
    ],
)
def test_asserted_claim_is_a_misconception(lora: Lora, judge: OfflineJudge, answer: str) -> None:
    q, r = lora
    grade = judge.grade(q, r, answer)
    found = [m for m in grade.misconceptions if m.id == "adds-latency"]
    assert found and locate(found[0].evidence, answer) is not None
    assert grade.verdict("merge-no-latency").verdict == "missed"


def test_misconception_costs_points(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    wrong = STRONG + "另外 LoRA 会压缩模型，让模型变小。"
    assert judge.grade(q, r, wrong).score < judge.grade(q, r, STRONG).score


def test_full_width_and_spacing_do_not_matter(lora: Lora, judge: OfflineJudge) -> None:
    q, r = lora
    wide = STRONG.replace("A", "Ａ").replace("B", "Ｂ").replace("，", " , ")
    assert judge.grade(q, r, wide).score == pytest.approx(judge.grade(q, r, STRONG).score, abs=10)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            "Oscillation means the model learns too slowly, so I raise the learning rate.",
            "raise-lr",
        ),
        ("loss 震荡说明学得慢，我会把学习率调大一些。", "raise-lr"),
        ("A smaller batch size makes the loss steadier.", "smaller-batch"),
        ("loss 震荡一般是步子太大，我会先降低学习率，再加 warmup。", None),
        ("When the loss oscillates the steps are too large, so I lower the learning rate.", None),
        ("A larger batch size gives less noisy gradients, so the loss is steadier.", None),
    ],
)
def test_the_opposite_direction_is_not_the_misconception(
    judge: OfflineJudge, answer: str, expected: str | None
) -> None:
    """Embeddings put "lower the learning rate" next to "raise the learning rate"; a
    sentence that moves the quantity the other way does not make the wrong claim."""
    bank = load_bank(REPO)
    q, r = bank.question("loss-oscillation-tuning"), bank.rubric("loss-oscillation-tuning")
    found = [m.id for m in judge.grade(q, r, answer).misconceptions]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("answer", "charged"),
    [
        # A correct sentence whose first half, cut at the semicolon, reads like the claim.
        (
            "Writing the weights or the optimiser state out to the CPU is called offloading; "
            "activation checkpointing leaves the weights where they are and recomputes the "
            "activations it dropped during the backward pass.",
            False,
        ),
        ("激活检查点就是训练时定期把模型权重保存到磁盘上，这样能省显存。", True),
    ],
)
def test_a_statement_is_read_across_its_semicolons(
    judge: OfflineJudge, answer: str, charged: bool
) -> None:
    bank = load_bank(REPO)
    qid = "activation-checkpointing"
    grade = judge.grade(bank.question(qid), bank.rubric(qid), answer)
    assert ("saves-weights" in [m.id for m in grade.misconceptions]) is charged


def test_offline_credit_follows_the_fitted_probability(lora: Lora, judge: OfflineJudge) -> None:
    """Each key point earns min(1, p / full_at) of its weight, and the score is their
    weighted sum: finer than three verdicts, and a point the judge is sure of earns it all."""
    q, r = lora
    grade = judge.grade(q, r, STRONG)
    assert judge.model.full_at is not None
    for v in grade.verdicts:
        assert v.credit is not None and 0 <= v.credit <= 1
        if v.verdict == "covered" and v.credit < 1:
            assert v.credit >= judge.model.covered_at / judge.model.full_at - 1e-3
    assert grade.score == score(r, grade.verdicts, grade.misconceptions)
    assert max(v.credit or 0 for v in grade.verdicts) == 1.0


def test_prefetched_answers_grade_without_another_encoder_call(
    lora: Lora, judge: OfflineJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch grading embeds a chunk's answers in one call (`prefetch`) and the rubric once
    (`prepare_all`); grading must then find every text it needs cached: each extra call
    costs a few milliseconds an answer (the joined statements read for misconceptions
    and the key points' content words were such calls)."""
    q, r = lora
    answers = [
        "LoRA 冻结原权重；只训练两个低秩矩阵 A 和 B，所以可训练参数少了很多（测试一）。",
        "LoRA trains two small matrices; the frozen weight stays as it is; test two.",
        STRONG + "另外；rank 一般取 8 或 16（测试三）。",
    ]
    judge.encoder.seed(judge.prepare_all([(q, r)]))
    judge.prefetch(answers)
    model = judge.encoder._model
    calls: list[list[str]] = []
    real = model.encode
    monkeypatch.setattr(model, "encode", lambda texts, *a, **k: calls.append(texts) or real(texts))
    for answer in answers:
        judge.grade(q, r, answer)
    assert calls == []


@pytest.mark.parametrize(
    ("answer", "charged"),
    [
        ("LoRA 的 B 矩阵初始化为全零，A 矩阵用随机高斯初始化，所以训练开始时 ΔW 为零。", False),
        ("In LoRA, B starts as all zeros and A is drawn from a random Gaussian.", False),
        ("In LoRA, A starts as all zeros and B is drawn from a random Gaussian.", True),
    ],
)
def test_which_matrix_is_zero_decides_the_charge(
    judge: OfflineJudge, answer: str, charged: bool
) -> None:
    """The claim "A is zero, B random" and the fact "B is zero, A random" hold the same
    words; the correct one is not charged with the claim (judge/roles.py)."""
    bank = load_bank(REPO)
    q, r = bank.question("lora-principle"), bank.rubric("lora-principle")
    found = [m.id for m in judge.grade(q, r, answer).misconceptions]
    assert ("init-swapped" in found) is charged


def test_a_nested_parenthesis_stays_in_the_correction() -> None:
    text = "LoRA 把 A 初始化为零。（反了：B 置零、A 随机（高斯或 Kaiming）初始化。）"
    assert _claim(text) == "LoRA 把 A 初始化为零。"
    assert _correction(text) == "反了：B 置零、A 随机（高斯或 Kaiming）初始化。"
    assert _claim("An unclosed (aside") == "An unclosed (aside"
    assert _correction("No correction given.") == "No correction given."


@pytest.mark.parametrize(
    ("stated", "reported"),
    [
        (
            "LoRA shrinks the base model.",
            "A common misunderstanding is that LoRA shrinks the base model.",
        ),
        ("LoRA 会压缩模型，让模型变小。", "很多人以为 LoRA 会压缩模型，让模型变小，其实 W0 不变。"),
    ],
)
def test_a_misconception_named_as_a_mistake_is_not_charged(
    lora: Lora, judge: OfflineJudge, stated: str, reported: str
) -> None:
    q, r = lora
    assert "compresses-model" in [m.id for m in judge.grade(q, r, stated).misconceptions]
    assert judge.grade(q, r, reported).misconceptions == []


def test_a_statement_without_the_claims_words_needs_to_be_closer(
    lora: Lora, judge: OfflineJudge
) -> None:
    from dataclasses import replace

    q, r = lora
    # Near "LoRA compresses or shrinks the base model" in embedding, but with none of its
    # own words (those the question does not use): charged only without the bar.
    vague = "用 LoRA 之后模型就瘦身了。"
    loose = OfflineJudge(model=replace(judge.model, misconception_unshared_similarity=0.0))
    assert "compresses-model" in [m.id for m in loose.grade(q, r, vague).misconceptions]
    assert judge.model.misconception_unshared_similarity > 0
    assert judge.grade(q, r, vague).misconceptions == []
    # the claim's own word ("压缩") is enough
    worded = "用了以后基座模型就被压缩了。"
    assert "compresses-model" in [m.id for m in judge.grade(q, r, worded).misconceptions]


def test_a_claim_in_its_own_evidence_phrase_needs_no_margin(judge: OfflineJudge) -> None:
    """Embeddings put this sentence as near the claim's correction and key points as the
    claim, so by similarity it falls within the margin; the claim's own phrase ("forgetting
    is ... overfitting") charges it, and its denial still does not."""
    bank = load_bank(REPO)
    qid = "catastrophic-forgetting-causes"
    q, r = bank.question(qid), bank.rubric(qid)
    stated = "Catastrophic forgetting is basically the model overfitting to the new data."
    assert [m.id for m in judge.grade(q, r, stated).misconceptions] == ["forgetting-is-overfitting"]
    without_phrases = r.model_copy(
        update={
            "misconceptions": [
                m.model_copy(update={"evidence": type(m.evidence)()}) for m in r.misconceptions
            ]
        }
    )
    assert judge.grade(q, without_phrases, stated).misconceptions == []
    denied = "Catastrophic forgetting is not overfitting: the new task can score well while old skills go."
    assert judge.grade(q, r, denied).misconceptions == []


@pytest.mark.parametrize(
    ("answer", "charged"),
    [
        (
            "The per-expert bias in DeepSeek-V3 does not scale the weights on the expert "
            "outputs; it only affects selection.",
            False,
        ),
        (
            "The per-expert bias in DeepSeek-V3 not only affects expert selection but also "
            "scales the weights on the expert outputs.",
            True,
        ),
    ],
)
def test_a_negation_on_the_claims_own_words_denies_it(
    judge: OfflineJudge, answer: str, charged: bool
) -> None:
    """The first sentence reads so like the claim that a negation alone would not count
    (its lead is past the denial margin), but "not" falls on the claim's own words; "not
    only ... but also" negates nothing."""
    bank = load_bank(REPO)
    qid = "moe-load-balancing"
    found = [m.id for m in judge.grade(bank.question(qid), bank.rubric(qid), answer).misconceptions]
    assert found == (["bias-weights-output"] if charged else [])


@pytest.mark.parametrize(
    ("qid", "answer", "charged"),
    [
        (
            "mixed-precision-training",
            "Casting weights from FP32 to FP16 is itself a kind of low-bit quantisation.",
            "half-is-quantization",
        ),
    ],
)
def test_a_denial_of_the_claim_does_not_stand_for_what_is_right(
    judge: OfflineJudge, qid: str, answer: str, charged: str
) -> None:
    """It states its claim plainly, and went uncharged while the rubric's sentence that
    denies the claim in one negation ("bf16 and fp16 are half-precision floats, not
    quantisation"; embeddings put it beside the claim) counted as what is right."""
    bank = load_bank(REPO)
    found = [m.id for m in judge.grade(bank.question(qid), bank.rubric(qid), answer).misconceptions]
    assert found == [charged]


def test_a_denial_nearer_the_statement_than_the_claim_still_stands_for_what_is_right(
    judge: OfflineJudge,
) -> None:
    """The statement shares "gradients" with the claim that eval() turns them off, and the
    rubric's "eval() does not turn off gradients" is nearer it than that claim: with every
    denial set aside, it was charged with the claim."""
    bank = load_bank(REPO)
    qid = "pytorch-training-script"
    answer = "Calling zero_grad is optional, since backward clears the old gradients by itself."
    found = [m.id for m in judge.grade(bank.question(qid), bank.rubric(qid), answer).misconceptions]
    assert "eval-disables-grad" not in found


def test_a_sentence_with_the_claims_negations_is_read_whole(judge: OfflineJudge) -> None:
    """The claim "Adapters merge back too, adding no latency" has a negation; the answer has
    one where the claim has it. Read by its clause nearest the claim (with none), it was
    taken for a denial."""
    bank = load_bank(REPO)
    qid = "peft-methods-compare"
    answer = "Adapter 也能像 LoRA 一样合并回原来的权重，上线推理不会多出延迟。"
    found = [m.id for m in judge.grade(bank.question(qid), bank.rubric(qid), answer).misconceptions]
    assert found == ["adapter-mergeable"]


@pytest.mark.parametrize(
    ("qid", "answer"),
    [
        ("vllm-acceleration", "PagedAttention is about managing the memory of the KV cache."),
        ("reward-model-training", "A reward model is trained to learn what humans prefer."),
        (
            "moe-expert-parallel-systems",
            "The model has 671B parameters in total, and about 37B are active for each token.",
        ),
        (
            "modern-llm-benchmarks",
            "When picking a model for our own product, public leaderboards only narrow down "
            "the candidates.",
        ),
        ("paged-attention", "It deals with KV-cache memory that gets wasted."),
    ],
)
def test_a_sentence_nearer_the_reference_than_the_claim_is_not_charged(
    judge: OfflineJudge, qid: str, answer: str
) -> None:
    """Each says what a sentence of the reference answer says, in other words; each was
    charged while only the key points and the claim's correction stood for what is right."""
    bank = load_bank(REPO)
    assert judge.grade(bank.question(qid), bank.rubric(qid), answer).misconceptions == []


def test_a_reference_answer_is_not_charged_by_a_phrase_found_across_its_words(
    judge: OfflineJudge,
) -> None:
    """ "B 初始化为零、A 随机初始化" holds the phrase "B 随机初始化" of the claim that swaps
    the two, with a gap; the sentence is the reference answer's own, so it is not charged."""
    bank = load_bank(REPO)
    qid = "lora-principle"
    q, r = bank.question(qid), bank.rubric(qid)
    assert "B 初始化为零、A 随机初始化" in r.reference_answer.zh
    assert judge.grade(q, r, r.reference_answer.zh).misconceptions == []
