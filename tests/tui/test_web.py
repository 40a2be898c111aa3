"""Which addresses `interviewer serve` treats as loopback (no token needed), and its tokens.
The guard itself is tested against the real server in tests/cli/test_serve.py."""

from __future__ import annotations

import pytest

from interviewer.tui.web import is_loopback, new_token


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", "192.168.1.5", "10.0.0.1", "example.com", "localhost.example"]
)
def test_anything_else_needs_the_token(host: str) -> None:
    assert not is_loopback(host)


def test_tokens_are_long_and_fresh() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 32 and t.isascii() and "=" not in t for t in tokens)
