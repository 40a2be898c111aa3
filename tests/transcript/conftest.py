"""Real offline interviews (scripted interviewer, offline judge) on a three-question bank."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from interviewer.bank.bank import Bank
from interviewer.bank.loader import load_bank
from interviewer.config import Settings, load_settings
from interviewer.interview.context import InterviewContext
from interviewer.interview.session import Session
from interviewer.transcript.schema import Transcript
from interviewer.transcript.store import TranscriptStore

DATA = Path(__file__).parent / "data"

ANSWERS = {
    "lora-principle": (
        "LoRA 假设权重更新是低秩的，把 ΔW 写成 B 乘 A；W0 冻结，只训练 A 和 B。"
        "推理时把 BA 合并回 W0，不增加延迟。"
    ),
    "pytorch-training-script": (
        "训练循环是：先 optimizer.zero_grad() 清梯度，然后前向得到输出，用 loss 函数算损失，"
        "loss.backward() 反向传播，最后 optimizer.step() 更新参数。"
    ),
    "sql-groupby-having": (
        "WHERE 在分组之前过滤行，HAVING 在 GROUP BY 之后过滤分组，"
        "所以 HAVING 里可以用 COUNT、SUM 这样的聚合函数。"
    ),
}
FOLLOW_UP = "我不太清楚。"


@pytest.fixture
def bank_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "bank"
    shutil.copytree(DATA / "bank", dest)
    return dest


@pytest.fixture
def bank(bank_dir: Path) -> Bank:
    return load_bank(bank_dir)


@pytest.fixture
def settings(tmp_path: Path, bank_dir: Path) -> Settings:
    return load_settings(
        bank_dir=bank_dir, transcripts_dir=tmp_path / "transcripts", data_dir=tmp_path / "data"
    )


@pytest.fixture
def store(settings: Settings) -> TranscriptStore:
    return TranscriptStore(settings.transcripts_dir)


Interview = Callable[..., Transcript]


@pytest.fixture
def interview(settings: Settings, store: TranscriptStore) -> Iterator[Interview]:
    """Run a whole offline interview; answer each question from ANSWERS (or `answers`)."""
    opened: list[Session] = []

    def run(
        questions: int = 3,
        seed: int = 7,
        answers: dict[str, str] | None = None,
        follow_ups: int = 1,
        skip: tuple[str, ...] = (),
        lang: str = "zh",
    ) -> Transcript:
        ctx = InterviewContext(
            questions=questions,
            seed=seed,
            follow_up_limit=follow_ups,
            lang=lang,  # type: ignore[arg-type]
        )
        session = Session.open(settings, ctx)
        opened.append(session)
        session.start()
        texts = {**ANSWERS, **(answers or {})}
        while not session.done:
            current = session.values["current"]
            qid = current["question_id"]
            if qid in skip and not current["attempts"]:
                session.send("skip")
            elif current["attempts"]:
                session.send("answer", FOLLOW_UP)
            else:
                session.send("answer", texts[qid])
        return store.load(session.interview_id)

    yield run
    for s in opened:
        s.close()
