"""What a provider returns: a structured reply and the tokens it used.

Provider concepts, kept here so that `judge/` imports them from `llm/` and never the
other way round; pydantic and the standard library only, cheap to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


class TokenUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
        )


@dataclass
class Completion:
    """A structured reply: `data` when the provider returned parsed JSON, else `text`."""

    text: str
    data: dict[str, Any] | None
    finish_reason: str
    usage: TokenUsage = field(default_factory=TokenUsage)
