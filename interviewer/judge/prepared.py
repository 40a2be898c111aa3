"""An answer prepared once, at a judge's entrance, and read by everything that grades it.

    original    the candidate's text, as given (and as shown back to them)
    text        `original` without invisible characters: what the guards and judges read;
                its units (sentences and clauses) are spans of it
    normalised  `text` with width folded and whitespace collapsed (NFKC): what the guards'
                patterns read
    comparable  `text` with case, width, whitespace and punctuation removed: what quotes and
                terms are matched on, with the index in `text` of each of its characters

A quote is located in `comparable` and its span mapped back through `text` to `original`,
so the span shown is the candidate's own words, whatever case, width or spacing the quote
was given in. Everything derived (units, words, the comparable form) is computed on first
use and kept: nothing the guards, the judges or the evidence check read is computed twice.
The words come from the segmenter, which learns the bank's terms: prepare an answer for
one grade, not once for a process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from interviewer.judge.normalize import Span, comparable, find_squashed, nfkc, squash
from interviewer.judge.text import Haystack, Unit, find_terms_in, haystack, split_units

# Characters that render as nothing: removed before the guards and every judge read an
# answer, so that "i\u200bgnore" cannot slip an instruction past them.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)


def strip_invisible(text: str) -> str:
    """`text` without zero-width, direction and other invisible characters."""
    return _INVISIBLE.sub("", text)


@dataclass(frozen=True, eq=False)
class PreparedAnswer:
    """One answer and every form of it that grading reads (see the module notes)."""

    original: str

    @classmethod
    def of(cls, answer: str | PreparedAnswer) -> PreparedAnswer:
        """`answer` prepared (an answer already prepared is returned as it is)."""
        return answer if isinstance(answer, PreparedAnswer) else cls(answer)

    @cached_property
    def text(self) -> str:
        return strip_invisible(self.original)

    @cached_property
    def _origin(self) -> tuple[int, ...]:
        """For each character of `text`, its index in `original`."""
        if len(self.text) == len(self.original):
            return tuple(range(len(self.original)))
        return tuple(i for i, c in enumerate(self.original) if not _INVISIBLE.match(c))

    @cached_property
    def normalised(self) -> str:
        return nfkc(self.text)

    @cached_property
    def _squashed(self) -> tuple[str, tuple[int, ...]]:
        squashed, index = squash(self.text)
        return squashed, tuple(index)

    @property
    def comparable(self) -> str:
        return self._squashed[0]

    @cached_property
    def units(self) -> tuple[Unit, ...]:
        """Sentences, and the clauses of sentences that have more than one (spans of `text`)."""
        return tuple(split_units(self.text))

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The content words, segmented: stemmed English words and jieba's Chinese words,
        without function words (`features.content_words`)."""
        from interviewer.judge.features import content_words  # numpy: only when graded

        return content_words(self.text)

    @cached_property
    def haystack(self) -> Haystack:
        """`text` as terms are looked up in it."""
        return haystack(self.text)

    def find_terms(self, terms: Iterable[str]) -> list[str]:
        """The terms (as given) that occur in the answer, after normalisation."""
        return find_terms_in(terms, self.haystack)

    # --- spans ------------------------------------------------------------------------

    def locate_in_text(self, quote: str) -> Span | None:
        """The span of `text` that `quote` matches after normalisation, or None."""
        squashed, index = self._squashed
        return find_squashed(comparable(strip_invisible(quote)), squashed, index)

    def to_original(self, span: Span) -> Span:
        """A span of `text` as the span of `original` it was read from (with the invisible
        characters inside it)."""
        start, end = span
        origin = self._origin
        if start >= end:
            at = origin[start] if start < len(origin) else len(self.original)
            return at, at
        return origin[start], origin[end - 1] + 1

    def locate(self, quote: str) -> Span | None:
        """Where the candidate wrote `quote`: the span of `original` it matches, verbatim
        if it is there, else after normalisation (case, width, spacing), or None."""
        at = self.original.find(quote) if quote else -1
        if at >= 0:
            return at, at + len(quote)
        span = self.locate_in_text(quote)
        return None if span is None else self.to_original(span)
