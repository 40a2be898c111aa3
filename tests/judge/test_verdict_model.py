from __future__ import annotations

import json
from pathlib import Path

import pytest

from interviewer.judge.features import NAMES
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


def test_a_refit_reads_its_rows_with_the_written_model_given_the_code_s_features(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the code has a feature the written model lacks (a new feature, before its first
    fit), the refit script reads its rows with the written model and a zero weight for it,
    instead of refusing to start."""
    from benchmarks import fit_offline

    data = shipped()
    names = list(data["features"])  # type: ignore[call-overload]
    dropped = names.index("soft_recall")
    old = {
        **data,
        "features": [n for n in names if n != "soft_recall"],
        **{
            k: [v for i, v in enumerate(data[k]) if i != dropped]
            for k in ("mean", "scale", "weights")
        },  # type: ignore[call-overload]
    }
    path = tmp_path / "verdict_model.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    monkeypatch.setattr(fit_offline, "MODEL_FILE", path)
    model = fit_offline._judge.__wrapped__().model
    assert model.names == NAMES
    assert model.weights[dropped] == 0.0 and model.scale[dropped] == 1.0
    assert model.mean[dropped] == 0.0
    kept = [i for i in range(len(NAMES)) if i != dropped]
    assert list(model.weights[kept]) == old["weights"]
