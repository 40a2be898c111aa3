from __future__ import annotations

import json

import pytest

from interviewer.judge.verdict_model import MODEL_FILE, VerdictModel


def shipped() -> dict[str, object]:
    data: dict[str, object] = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    return data


def test_credit_follows_the_probability_up_to_full_marks() -> None:
    model = VerdictModel.from_dict({**shipped(), "full_at": 0.8})
    assert model.credit(0.4) == 0.5
    assert model.credit(0.8) == 1.0
    assert model.credit(0.97) == 1.0, "past full_at a point earns its whole weight, no more"
    assert model.credit(0.0) == 0.0


def test_a_model_without_full_at_credits_by_verdict() -> None:
    data = {k: v for k, v in shipped().items() if k != "full_at"}
    assert VerdictModel.from_dict(data).credit(0.4) is None


def test_the_fingerprint_changes_with_any_parameter() -> None:
    base = shipped()
    a = VerdictModel.from_dict({**base, "full_at": 0.8})
    b = VerdictModel.from_dict({**base, "full_at": 0.85})
    c = VerdictModel.from_dict({**base, "misconception_margin": 0.123})
    assert len({a.fingerprint, b.fingerprint, c.fingerprint}) == 3


def test_features_that_do_not_match_the_code_are_refused() -> None:
    with pytest.raises(ValueError, match="refit it"):
        VerdictModel.from_dict({**shipped(), "features": ["nothing"]})
