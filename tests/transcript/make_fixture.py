"""Write tests/transcript/data/v2-reviewed.json: a real offline interview on the test bank,
with a reviewer's override and a regrade by a second real judge (the offline judge with its
unfitted default parameters). The export golden files are made from it.

    .venv/bin/python -m tests.transcript.make_fixture
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/transcript/test_export.py
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from interviewer.bank.loader import load_bank
from interviewer.config import load_settings
from interviewer.interview.context import InterviewContext
from interviewer.interview.session import Session
from interviewer.judge.offline import OfflineJudge, OfflineParams
from interviewer.transcript.review import override, regrade
from interviewer.transcript.store import TranscriptStore

DATA = Path(__file__).parent / "data"
ANSWERS = {
    "lora-principle": (
        "LoRA 假设权重更新是低秩的，把 ΔW 写成 B*A 两个小矩阵；W0 冻结，只训练 `A` 和 `B`。\n"
        "- 推理时把 BA 合并回 W0，<b>不增加推理延迟</b> & 也能按任务切换 adapter。"
    ),
    "pytorch-training-script": (
        "训练循环是：先 optimizer.zero_grad() 清梯度，然后前向得到输出，用 loss 函数算损失，"
        "loss.backward() 反向传播，最后 optimizer.step() 更新参数。"
    ),
    "sql-groupby-having": "WHERE 在分组之前过滤行，HAVING 在 GROUP BY 之后过滤分组。",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            bank_dir=DATA / "bank",
            transcripts_dir=Path(tmp) / "t",
            data_dir=Path(tmp) / "d",
        )
        session = Session.open(
            settings, InterviewContext(questions=3, seed=7, follow_up_limit=1, lang="zh")
        )
        try:
            session.start()
            while not session.done:
                current = session.values["current"]
                if current["attempts"]:
                    session.send("answer", "我不太清楚。")
                else:
                    session.send("answer", ANSWERS[current["question_id"]])
        finally:
            session.close()
        store = TranscriptStore(settings.transcripts_dir)
        t = store.load(session.interview_id)
        second = OfflineJudge(params=OfflineParams(), spec="offline:defaults")
        regrade(t, second, load_bank(DATA / "bank"))
        store.save(t)
        turn = t.turns[0]
        missed = next(v.key_point for v in turn.merged.verdicts if v.verdict == "missed")
        override(store, t.id, 1, missed, "partial", "mentioned it <briefly> & *vaguely*")
        shutil.copy(store.path(t.id), DATA / "v2-reviewed.json")
        print(DATA / "v2-reviewed.json")


if __name__ == "__main__":
    main()
