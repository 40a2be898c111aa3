"""Bank files are untrusted text: alias bombs, random text and random bytes end in a
BankError naming the file and line, quickly and in little memory; the bank cache is JSON."""

from __future__ import annotations

import os
import pickle
import re
import resource
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interviewer.bank import cache as bank_cache
from interviewer.bank.errors import BankError
from interviewer.bank.loader import load_bank
from tests.conftest import REPO

ITEM = re.compile(r"^(questions|rubrics)/fuzz\.yaml:[1-9]\d*: \S")


def laughs(levels: int, width: int = 9, key: str = "question_id") -> str:
    """The billion-laughs document: each level is `width` aliases of the one before."""
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"{key}: *a{levels}")
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_billion_laughs_is_refused_at_its_line_in_bounded_time_and_memory(
    small_bank: Path, tmp_path: Path
) -> None:
    """9 levels took 43 s and 3.1 GB, 10 levels a MemoryError traceback (reliability review,
    test 2). Run in a child under a 1 GB address-space limit and a 20 s timeout."""
    (small_bank / "rubrics" / "bomb.yaml").write_text(laughs(10), "utf-8")
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from pathlib import Path\n"
        "from interviewer.bank.errors import BankError\n"
        "from interviewer.bank.loader import load_bank\n"
        "try:\n"
        f"    load_bank(Path({str(small_bank)!r}))\n"
        "except BankError as exc:\n"
        "    print(exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "c")}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20, env=env
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert "rubrics/bomb.yaml:2: YAML alias *a0 refused" in proc.stdout
    assert "write the value out in full" in proc.stdout
    assert elapsed < 15


def test_alias_in_a_question_file_names_its_line(small_bank: Path) -> None:
    path = small_bank / "questions" / "lora.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("  kind: concept\n", "  kind: &k concept\n  x: *k\n", 1))
    line = next(n for n, s in enumerate(path.read_text("utf-8").splitlines(), 1) if "*k" in s)
    with pytest.raises(BankError) as info:
        load_bank(small_bank)
    assert f"questions/lora.yaml:{line}: YAML alias *k refused" in str(info.value)


def test_deep_nesting_is_refused_quickly(small_bank: Path) -> None:
    (small_bank / "rubrics" / "fuzz.yaml").write_text("[" * 5000, "utf-8")
    started = time.perf_counter()
    with pytest.raises(BankError) as info:
        load_bank(small_bank)
    assert time.perf_counter() - started < 3  # 6.7 s before
    assert "rubrics/fuzz.yaml:1: nested more than" in str(info.value)


# --- fuzzing: alias bombs, YAML-ish text, random bytes ------------------------------------

yaml_tokens = st.sampled_from(
    [
        "&a ",
        "*a",
        "&b ",
        "*b",
        "[",
        "]",
        "{",
        "}",
        ", ",
        ": ",
        "- ",
        "\n",
        "\n  ",
        "\n    ",
        "id",
        "question_id",
        "key_points",
        "weight",
        "lol",
        "'",
        '"',
        "|",
        ">",
        "!!str ",
        "!!python/object/apply:os.system ",
        "<<: ",
        "? ",
        "#",
        "---\n",
        "...\n",
        "%YAML 1.2\n",
        "1e400",
        "9" * 50,
        "\t",
        "\ufeff",
        "\u2028",
        "é",
        "问题",
    ]
)
yaml_text = st.lists(st.one_of(yaml_tokens, st.text(max_size=5)), max_size=60).map("".join)
bombs = st.builds(
    laughs,
    levels=st.integers(1, 30),
    width=st.integers(1, 40),
    key=st.sampled_from(["question_id", "id", "key_points", "related", "x"]),
)


def _check(small_bank: Path) -> None:
    started = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        load_bank(small_bank)
    except BankError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.message
            if "fuzz.yaml" in p.path:
                assert ITEM.match(str(p)), str(p)  # file and a real (1-based) line
    assert time.perf_counter() - started < 5
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown_kb < 200_000


FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(bomb=bombs, where=st.sampled_from(["questions", "rubrics"]))
def test_fuzz_alias_bombs(small_bank: Path, bomb: str, where: str) -> None:
    (small_bank / where / "fuzz.yaml").write_text(bomb, "utf-8")
    with pytest.raises(BankError) as info:
        load_bank(small_bank)
    assert any(f"{where}/fuzz.yaml:" in str(p) and "alias" in str(p) for p in info.value.problems)
    _check(small_bank)


@FUZZ
@given(text=yaml_text, where=st.sampled_from(["questions", "rubrics"]))
def test_fuzz_yaml_like_text(small_bank: Path, text: str, where: str) -> None:
    (small_bank / where / "fuzz.yaml").write_text(text, "utf-8")
    _check(small_bank)


@FUZZ
@given(data=st.binary(max_size=300), where=st.sampled_from(["questions", "rubrics"]))
def test_fuzz_random_bytes(small_bank: Path, data: bytes, where: str) -> None:
    (small_bank / where / "fuzz.yaml").write_bytes(data)
    _check(small_bank)


# --- the bank cache is JSON, private, and a planted pickle is never loaded ---------------


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {_Boom.marker}",))

    marker = ""


def test_cache_is_private_json_and_a_planted_pickle_is_not_loaded(
    small_bank: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache" / "interviewer"
    key = bank_cache.fingerprint(small_bank.resolve(), True)
    assert key is not None
    cache.mkdir(parents=True)
    _Boom.marker = str(tmp_path / "PWNED")
    (cache / f"bank-{key[:32]}.pickle").write_bytes(pickle.dumps(_Boom()))
    first = load_bank(small_bank)
    assert not (tmp_path / "PWNED").exists()
    [stored] = cache.glob("bank-*.json")
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    second = load_bank(small_bank)  # from the JSON
    assert second.questions == first.questions and second.rubrics == first.rubrics
    assert second.where == first.where


def test_cache_folder_is_made_private(small_bank: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        load_bank(small_bank)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "cache" / "interviewer").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
