"""A judge spec, its key and its URL are checked when the interview opens, before the first
question (issue 13 item 11, code-review item 7), with a message that says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def interview(
    tmp: Path, bank: Path, *args: str, **env_extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTERVIEWER_", "OPENAI", "ANTHROPIC"))
    }
    env.update(
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        INTERVIEWER_BANK_DIR=str(bank),
        PYTHONUNBUFFERED="1",
        **env_extra,
    )
    return subprocess.run(
        [sys.executable, "-m", "interviewer", "interview", "--plain", "--questions", "1", *args],
        input="",
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args,env,says",
    [
        (["--judge", "openai:gpt-4o-mini"], {}, "OPENAI_API_KEY"),
        (["--judge", "gpt4"], {}, "is not one of"),
        (["--judge", "openai:gpt 4o"], {"OPENAI_API_KEY": "sk-x-123456789"}, "not a model name"),
        (["--judge", "compatible:qwen"], {}, "base URL"),
        (
            [
                *["--judge", "compatible:qwen", "--base-url", "http://127.0.0.1:9/v1"],
                *["--api-key-env", "UNSET_KEY_VAR"],
            ],
            {},
            "UNSET_KEY_VAR",
        ),
        (["--interviewer", "anthropic:claude-x"], {}, "ANTHROPIC_API_KEY"),
    ],
    ids=["no-key", "bad-spec", "bad-model", "no-url", "unset-key-env", "voice-no-key"],
)
def test_checked_before_the_first_question(
    tmp_path: Path, small_bank: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    done = interview(tmp_path, small_bank, *args, **env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert "LoRA" not in done.stdout, "no question was asked"
    assert not (tmp_path / "transcripts").exists() or not any((tmp_path / "transcripts").iterdir())
