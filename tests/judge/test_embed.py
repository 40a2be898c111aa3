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
