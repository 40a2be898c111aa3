"""Answer text, cut into units (sentences and clauses) with their spans, and tokenised.

Chinese is segmented with jieba, with a domain dictionary built from the bank's evidence
terms (so that 优化器状态 or KV cache stay whole); Latin-script words are kept as words.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from interviewer.config import cache_dir
from interviewer.judge.normalize import comparable, nfkc

# A full stop ends a sentence unless it closes an abbreviation that runs on ("Min et al.
# (2022) found", "a cache, e.g. the KV cache").
_SENTENCE_END = re.compile(
    r"(?<=[。！？!?；;\n])"
    r"|(?<=[.])(?<!\bal\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)(?<!\bcf\.)(?=\s|$)",
    re.I,
)
_CLAUSE_END = re.compile(r"(?<=[，,：:])")
HAN = re.compile(r"[\u4e00-\u9fff]")  # a CJK ideograph
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-+.']*[A-Za-z0-9]|[A-Za-z]")
_ASCII_TERM = re.compile(r"^[\x00-\x7f]+$")

DATA = Path(__file__).with_name("data")


def word_list(name: str) -> frozenset[str]:
    """A word list from judge/data/<name>.txt (one word a line, # comments)."""
    return _word_list(name)


@cache
def _word_list(name: str) -> frozenset[str]:
    lines = (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


# Words that tie content words into a statement. A run of terms without them is a list.
FUNCTION_ZH = word_list("function_zh")
FUNCTION_EN = word_list("function_en")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unit:
    """A sentence or a clause of the answer; `text` is exactly `answer[start:end]`."""

    start: int
    end: int
    text: str
    kind: str  # "sentence" | "clause"


def split_units(answer: str) -> list[Unit]:
    """Sentences, and the clauses of sentences that have more than one."""
    units: list[Unit] = []
    for s_start, s_end in _spans(answer, 0, len(answer), _SENTENCE_END):
        units.append(Unit(s_start, s_end, answer[s_start:s_end], "sentence"))
        clauses = _spans(answer, s_start, s_end, _CLAUSE_END)
        if len(clauses) > 1:
            units.extend(Unit(c0, c1, answer[c0:c1], "clause") for c0, c1 in clauses)
    return units


def _spans(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    cuts = [start, *(start + m.start() for m in pattern.finditer(text[start:end])), end]
    out: list[tuple[int, int]] = []
    for a, b in pairwise(cuts):
        while a < b and (text[a].isspace() or text[a] in "-*•·>#"):
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if comparable(text[a:b]):
            out.append((a, b))
    return out


# --- tokens ------------------------------------------------------------------------------


_TERM_DEPENDENT: list[Callable[[], None]] = []

F = TypeVar("F", bound=Callable[..., Any])


def cached_on_words(fn: F) -> F:
    """Mark an `lru_cache`d function whose results come from `Segmenter.cut`: its cache is
    cleared whenever the segmenter learns new terms."""
    on_new_terms(fn.cache_clear)  # type: ignore[attr-defined]
    return fn


def on_new_terms(clear: Callable[[], None]) -> None:
    """Call `clear` whenever the segmenter learns new terms (it forgets what was cut)."""
    _TERM_DEPENDENT.append(clear)


class Segmenter:
    """jieba with a domain dictionary; thread-safe lazy initialisation."""

    def __init__(self) -> None:
        self._tk: Any = None
        self._lock = threading.Lock()
        self._added: set[str] = set()

    def _tokenizer(self) -> Any:
        if self._tk is None:
            with self._lock:
                if self._tk is None:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    pruned = _pruned_dictionary()
                    tk = jieba.Tokenizer(dictionary=pruned) if pruned else jieba.Tokenizer()
                    cache = cache_dir()
                    if cache.is_dir():
                        tk.tmp_dir = str(cache)  # keep jieba's own cache with ours
                    tk.initialize()
                    self._tk = tk
        return self._tk

    def add_terms(self, terms: Iterable[str]) -> None:
        """Teach the segmenter domain terms (evidence hints from the bank)."""
        tk = self._tokenizer()
        with self._lock:
            before = len(self._added)
            for term in terms:
                t = nfkc(term).strip()
                if len(t) >= 2 and HAN.search(t) and t not in self._added:
                    tk.add_word(t, freq=200_000)
                    self._added.add(t)
            if len(self._added) != before:
                # Earlier cuts may split the new terms: forget them, and everything cached
                # from them, so that a grade depends on the terms learned, not on their order.
                Segmenter._cut.cache_clear()
                Segmenter._cut_block.cache_clear()
                for clear in _TERM_DEPENDENT:
                    clear()

    def cut(self, text: str, hmm: bool = True) -> list[str]:
        """Tokens: Chinese words from jieba, Latin words whole; no whitespace or punctuation."""
        return list(self._cut(text, hmm))

    @lru_cache(maxsize=65536)  # noqa: B019 — one process-wide segmenter; texts repeat
    def _cut(self, text: str, hmm: bool) -> tuple[str, ...]:
        """`text` cut block by block, as jieba cuts it (it splits a text into blocks of
        ideographs and word characters, and cuts each alone): the blocks of an answer recur
        in its sentences, its units and the rows that share a sentence, so each is cut once."""
        self._tokenizer()
        out: list[str] = []
        for block in _blocks(nfkc(text)):
            out += self._cut_block(block, hmm)
        return tuple(out)

    @lru_cache(maxsize=131072)  # noqa: B019 — as above
    def _cut_block(self, block: str, hmm: bool) -> tuple[str, ...]:
        return tuple(t for t in self._tokenizer().cut(block, HMM=hmm) if comparable(t))


def _blocks(text: str) -> list[str]:
    """The blocks jieba cuts `text` into (its `re_han_default` split), empty ones left out:
    cutting each block alone gives the tokens of cutting the whole text."""
    return [b for b in _block_pattern().split(text) if b]


@cache
def _block_pattern() -> re.Pattern[str]:
    from jieba import re_han_default

    return re_han_default  # type: ignore[no-any-return]


DICTIONARY_WORDS = 100_000


def _pruned_dictionary() -> str | None:
    """jieba's dictionary cut to its 100k most frequent words, written once to the cache.

    The full 350k-word dictionary takes about 0.9 s to load on every start; the most
    frequent 100k load in about 0.2 s and segment ordinary technical Chinese the same way
    (domain terms are added from the bank). None (the full dictionary) if the cache
    cannot be written.
    """
    import jieba

    try:
        path = cache_dir() / f"jieba-{jieba.__version__}-{DICTIONARY_WORDS}.txt"
        if not path.exists():
            source = Path(jieba.__file__).with_name("dict.txt")
            rows = [line.split() for line in source.read_text(encoding="utf-8").splitlines()]
            rows = [r for r in rows if len(r) >= 2]
            rows.sort(key=lambda r: -int(r[1]))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text("".join(" ".join(r) + "\n" for r in rows[:DICTIONARY_WORDS]), "utf-8")
            os.replace(tmp, path)
        return str(path)
    except OSError:
        return None


_segmenter = Segmenter()


def segmenter() -> Segmenter:
    return _segmenter


def is_function_word(token: str) -> bool:
    return token in FUNCTION_ZH or token.casefold() in FUNCTION_EN


def han_count(text: str) -> int:
    return len(HAN.findall(text))


def mostly_han(text: str) -> bool:
    """Chinese enough to be read by character bigrams: over 30% CJK ideographs."""
    return han_count(text) > 0.3 * len(text)


def latin_words(text: str) -> list[str]:
    return _LATIN_WORD.findall(text)


# --- term matching -------------------------------------------------------------------------


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@lru_cache(maxsize=65536)
def _term_key(term: str) -> tuple[str, str] | None:
    """A term's comparable form, and how it is matched:
    - "words": a Latin term, matched as whole words (so "rank" does not match "frank"),
      ignoring the spaces and hyphens inside it ("low-rank" ~ "low rank" ~ "lowrank");
    - "spaced": other ASCII terms, a plain substring of the text with words kept apart;
    - "squashed": everything else (Chinese), a plain substring of the squashed text.
    No regular expressions: a bank has some ten thousand terms, and compiling a pattern
    for each cost more than all the matching (about 0.15 ms a term)."""
    norm = comparable(term)
    if not norm:
        return None
    if _ASCII_TERM.match(norm):
        return norm, "words" if norm[0].isalnum() else "spaced"
    return norm, "squashed"


@dataclass(frozen=True)
class Haystack:
    """A text as terms are looked up in it."""

    spaced: str  # comparable words kept apart by single spaces
    squashed: str  # comparable text, everything run together
    joined: str  # `spaced` without its spaces
    where: tuple[int, ...]  # for each character of `joined`, its index in `spaced`

    def has_words(self, norm: str) -> bool:
        """`norm` occurs in `joined` with no word character right before or after it in
        `spaced`, that is, it starts and ends at word boundaries."""
        spaced, where = self.spaced, self.where
        at = self.joined.find(norm)
        while at >= 0:
            start, end = where[at], where[at + len(norm) - 1] + 1
            if (start == 0 or spaced[start - 1] not in _WORD_CHARS) and (
                end == len(spaced) or spaced[end] not in _WORD_CHARS
            ):
                return True
            at = self.joined.find(norm, at + 1)
        return False


@lru_cache(maxsize=16384)
def haystack(text: str) -> Haystack:
    spaced = " ".join(comparable(w) for w in nfkc(text).split())
    where = tuple(i for i, c in enumerate(spaced) if c != " ")
    return Haystack(spaced, comparable(text), spaced.replace(" ", ""), where)


def find_terms(terms: Iterable[str], text: str) -> list[str]:
    """The terms (as given) that occur in `text`, after normalisation."""
    return find_terms_in(terms, haystack(text))


def find_terms_in(terms: Iterable[str], hay: Haystack) -> list[str]:
    """The terms (as given) that occur in the text `hay` was made from."""
    found: list[str] = []
    for term in terms:
        key = _term_key(term)
        if key is None:
            continue
        norm, how = key
        if how == "words":
            hit = hay.has_words(norm)
        else:
            hit = norm in (hay.spaced if how == "spaced" else hay.squashed)
        if hit:
            found.append(term)
    return found
