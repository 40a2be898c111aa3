"""The bank cache: a bank is parsed once and read back from JSON until one of its files, or
the loader's code, changes; a bad or unwritable cache only means loading the files again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interviewer.bank import cache
from interviewer.bank.loader import load_bank
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "interviewer").glob("bank-*.json"))


def prompt(root: Path) -> str:
    return load_bank(root).question("lora-principle").prompt.en


def test_a_loaded_bank_is_read_back_from_the_cache(small_bank: Path, tmp_path: Path) -> None:
    first = load_bank(small_bank)
    [entry] = entries(tmp_path)
    assert entry == cache.cache_path(cache.fingerprint(small_bank.resolve(), True) or "")
    # Plant a marker in the entry: the next load must come from it, not from the files.
    data = json.loads(entry.read_text("utf-8"))
    data["questions"]["lora-principle"]["prompt"]["en"] = "from the cache"
    entry.write_text(json.dumps(data), "utf-8")
    second = load_bank(small_bank)
    assert second.question("lora-principle").prompt.en == "from the cache"
    assert second.rubrics == first.rubrics and second.where == first.where
    assert second.root == first.root


def test_editing_a_bank_file_invalidates_the_entry(small_bank: Path, tmp_path: Path) -> None:
    path = small_bank / "questions" / "lora.yaml"
    assert prompt(small_bank).startswith("How does LoRA")
    text = path.read_text("utf-8")
    path.write_text(text.replace("How does LoRA", "How, exactly, does LoRA", 1), "utf-8")
    assert prompt(small_bank).startswith("How, exactly, does LoRA")
    assert len(entries(tmp_path)) == 2  # a new key; the old entry is under a day old


def test_the_key_covers_names_sizes_times_and_strictness(small_bank: Path) -> None:
    root = small_bank.resolve()
    key = cache.fingerprint(root, True)
    assert key is not None and key == cache.fingerprint(root, True)
    assert cache.fingerprint(root, False) != key

    rubric = root / "rubrics" / "lora-principle.yaml"
    st = rubric.stat()
    os.utime(rubric, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # touched, same bytes
    touched = cache.fingerprint(root, True)
    assert touched != key

    (root / "rubrics" / "extra.yml").write_text("question_id: x\n", "utf-8")  # a file added
    added = cache.fingerprint(root, True)
    assert added not in {key, touched}

    (root / "rubrics" / "extra.yml").unlink()
    (root / "notes.txt").write_text("not part of the bank\n", "utf-8")
    assert cache.fingerprint(root, True) == touched


def test_a_file_that_cannot_be_looked_at_turns_the_cache_off(
    small_bank: Path, tmp_path: Path
) -> None:
    (small_bank / "rubrics" / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    assert cache.fingerprint(small_bank.resolve(), True) is None
    assert cache.read(None) is None
    assert list(load_bank(small_bank).questions) == ["lora-principle"]
    assert entries(tmp_path) == []


def test_the_key_covers_every_module_the_loader_runs() -> None:
    """A module the loader imports but CODE leaves out could change how a bank loads
    while its cache entries stayed valid."""
    script = (
        "import sys, interviewer.bank.loader\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('interviewer.bank.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    ).stdout
    loaded = {name.rsplit(".", 1)[1] + ".py" for name in out.split()}
    assert loaded <= set(cache.CODE), loaded - set(cache.CODE)
    for name in cache.CODE:
        assert (Path(cache.__file__).with_name(name)).is_file(), name


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"root": "/x"}', b"\x80\x04K\x01."])
def test_an_unreadable_entry_means_loading_the_files_again(
    small_bank: Path, tmp_path: Path, content: bytes
) -> None:
    key = cache.fingerprint(small_bank.resolve(), True)
    assert key is not None
    path = cache.cache_path(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert cache.read(key) is None
    assert list(load_bank(small_bank).questions) == ["lora-principle"]
    assert cache.read(key) is not None  # written anew over the bad entry


def test_writing_drops_other_entries_over_a_day_old(small_bank: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "interviewer"
    folder.mkdir(parents=True)
    stale, recent = folder / "bank-stale.json", folder / "bank-recent.json"
    unrelated = folder / "tokenizer.json"
    for path in (stale, recent, unrelated):
        path.write_text("{}", "utf-8")
    old = time.time() - cache.MAX_AGE - 60
    os.utime(stale, (old, old))
    os.utime(unrelated, (old, old))
    load_bank(small_bank)
    assert not stale.exists()
    assert recent.exists() and unrelated.exists()
    assert len(entries(tmp_path)) == 2  # the new entry and the recent one


def test_a_cache_that_cannot_be_written_is_no_error(
    small_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n", "utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    bank = load_bank(small_bank)
    assert list(bank.questions) == ["lora-principle"]
    key = cache.fingerprint(small_bank.resolve(), True)
    assert cache.read(key) is None  # nothing was kept
