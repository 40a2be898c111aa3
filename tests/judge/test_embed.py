"""The encoder's cache of embeddings."""

from __future__ import annotations

import numpy as np

from interviewer.judge.embed import Encoder, encoder


def test_a_full_cache_never_drops_a_text_the_same_call_reads() -> None:
    small = Encoder(cache_size=3)
    encoder().load()
    small._model = encoder()._model  # share the loaded model: only the cache is under test
    small.encode(["alpha", "beta", "gamma"])  # the cache is full
    # "alpha" is cached and the oldest; three new texts overflow the cache in the same call.
    rows = small.encode(["alpha", "delta", "epsilon", "zeta"])
    assert rows.shape == (4, Encoder.dim)
    assert np.allclose(rows[0], encoder().encode(["alpha"])[0], atol=1e-5)
    assert len(small._cache) == 3


def test_seeded_embeddings_outlive_a_full_cache() -> None:
    """A batch worker's rubric texts are seeded; the answers' texts must not evict them, or
    each is embedded again (the batch ran at 144 answers/s instead of about 200)."""
    small = Encoder(cache_size=2)
    encoder().load()
    small._model = encoder()._model
    calls: list[list[str]] = []
    model_encode = small._model.encode

    class Spy:
        def encode(self, texts: list[str]) -> object:
            calls.append(list(texts))
            return model_encode(texts)

    small._model = Spy()
    rubric = {"the key point": encoder().encode(["the key point"])[0]}
    small.seed(rubric)
    small.encode(["answer one", "answer two", "answer three"])  # more than the cache holds
    rows = small.encode(["the key point", "answer three"])
    assert np.array_equal(rows[0], rubric["the key point"])
    assert all("the key point" not in c for c in calls)
    assert len(small._cache) == 2
