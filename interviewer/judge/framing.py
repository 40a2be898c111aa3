"""Whether a sentence reports a belief as a mistake instead of asserting it.

"A common misunderstanding is that LoRA shrinks the model" and "有一种常见做法是在 prompt 里写
一句……，以为这样偏差就没了" name a misconception in its own words, often closer to the claim
than anything right, to say it is wrong. A strong answer does this often; it is not a charge.
The words are in `judge/data/mistake_frames.txt`; English also has "people (often) think /
assume / picture…".
"""

from __future__ import annotations

import re
from functools import cache

from interviewer.judge.normalize import nfkc
from interviewer.judge.text import HAN, word_list

_PEOPLE_THINK = re.compile(
    r"\b(?:people|many|some|folks|everyone|one|you)\s+"
    r"(?:often\s+|usually\s+|commonly\s+|sometimes\s+|might\s+|may\s+|would\s+|tend\s+to\s+)?"
    r"(?:think|thinks|assume|assumes|believe|believes|picture|imagine|repeat|claim|say|says)\b",
    re.I,
)


@cache
def _english() -> re.Pattern[str]:
    words = sorted((w for w in word_list("mistake_frames") if not HAN.search(w)), key=len)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in reversed(words)) + r")\b", re.I)


@cache
def _chinese() -> tuple[str, ...]:
    return tuple(w for w in word_list("mistake_frames") if HAN.search(w))


def reports_a_mistake(text: str) -> bool:
    """Whether `text` frames what it says as someone's mistaken belief."""
    t = nfkc(text).replace("’", "'")
    if any(w in t for w in _chinese()):
        return True
    return bool(_english().search(t) or _PEOPLE_THINK.search(t))
