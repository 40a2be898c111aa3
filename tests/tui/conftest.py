from __future__ import annotations

from pathlib import Path

import pytest

from interviewer.config import Settings, load_settings
from interviewer.tui import prefs
from tests.conftest import REPO


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The real bank; data and transcripts in the test's own folder; last choices set to a
    short coding interview (what the set-up screen remembers between runs)."""
    s = load_settings(bank_dir=REPO, transcripts_dir=tmp_path / "transcripts")
    prefs.save(
        s.data_dir,
        prefs.Choices(topics=["coding"], questions=2, follow_ups=1, lang="zh", mode="practice"),
    )
    return s
