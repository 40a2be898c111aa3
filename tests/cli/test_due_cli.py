"""`interviewer --due` in plain mode, in a real subprocess: nothing due, and due items."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from interviewer.practice.items import ItemsFile, apply_transcripts, save_items
from tests.interview.test_plain_mode import run
from tests.practice.helpers import transcript, turn

# Misses trainable-params (weight 2, a written follow-up) and target-modules (weight 1).
ANSWER = (
    "LoRA 的核心假设是权重更新 ΔW 是低秩的，可以分解为两个小矩阵 BA 的乘积，秩 r 很小。"
    "预训练权重 W0 冻结不更新，只训练 A 和 B。推理时可以把 BA 合并回 W0，不增加推理延迟，也可以切换适配器。"
)


def items(folder: Path, *reviews: tuple[datetime, dict[str, str]]) -> None:
    data = ItemsFile()
    for n, (at, verdicts) in enumerate(reviews):
        stamp = at.isoformat(timespec="seconds")
        apply_transcripts(data, [transcript(f"past-{n}", turn(stamp, verdicts))])
    save_items(folder, data)


def test_nothing_due_without_items(tmp_path: Path) -> None:
    proc = run(tmp_path, ["--due", "--transcripts", str(tmp_path / "tr")], "")
    assert proc.returncode == 0, proc.stderr
    assert "No review items yet" in proc.stdout
    assert not (tmp_path / "tr").exists() or not list((tmp_path / "tr").glob("2*.json"))


def test_nothing_due_says_when_the_next_item_is(tmp_path: Path) -> None:
    folder = tmp_path / "tr"
    now = datetime.now(UTC)
    # Missed two days ago, covered an hour ago: next due days from now.
    items(
        folder,
        (now - timedelta(days=2), {"target-modules": "missed"}),
        (now - timedelta(hours=1), {}),
    )
    proc = run(tmp_path, ["--due", "--transcripts", str(folder)], "")
    assert proc.returncode == 0, proc.stderr
    assert "Nothing is due for review. The next item is due " in proc.stdout
    assert " days)" in proc.stdout or " h)" in proc.stdout
    assert not list(folder.glob("2*.json")), "no interview was started"


def test_due_items_make_the_interview_and_are_probed_first(tmp_path: Path) -> None:
    folder = tmp_path / "tr"
    items(folder, (datetime.now(UTC) - timedelta(hours=2), {"target-modules": "missed"}))
    proc = run(
        tmp_path,
        ["--due", "--transcripts", str(folder), "--follow-ups", "1", "--lang", "zh"],
        f"{ANSWER}\n\n不知道\n\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Practising 1 due key point(s) in 1 question(s)." in proc.stdout
    saved = json.loads(Path(tmp_path / proc.stdout.strip().splitlines()[-1]).read_text("utf-8"))
    assert saved["settings"]["review"] == {"lora-principle": ["target-modules"]}
    assert [t["question_id"] for t in saved["turns"]] == ["lora-principle"]
    # The due point is asked about first, before the heavier trainable-params, which has a written follow-up.
    assert saved["turns"][0]["follow_ups"][0]["key_point"] == "target-modules"
    # Saving the interview reviewed the item: missed again.
    data = json.loads((folder / "practice" / "items.json").read_text("utf-8"))
    reviews = data["items"]["lora-principle/target-modules"]["reviews"]
    assert [r["interview_id"] for r in reviews][-1] == saved["id"]


def test_stats_draws_scores_over_time_and_lists_what_is_due(tmp_path: Path) -> None:
    from interviewer.transcript.store import TranscriptStore
    from tests.interview.test_plain_mode import env

    folder = tmp_path / "tr"
    store = TranscriptStore(folder)
    store.save(
        transcript(
            "20261201-090000-aaaa", turn("2026-12-01T09:00:00+00:00", {"target-modules": "missed"})
        )
    )
    store.save(transcript("20261203-090000-bbbb", turn("2026-12-03T09:00:00+00:00", {})))
    proc = subprocess.run(
        [sys.executable, "-m", "interviewer", "stats", "--dir", str(folder)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env(tmp_path), "COLUMNS": "100"},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Score per topic over time" in proc.stdout
    assert "2026-12-01" in proc.stdout and "2026-12-03" in proc.stdout  # the x axis
    assert "Review items" in proc.stdout
    due_table = proc.stdout[proc.stdout.index("Review items") :]
    row = next(line for line in due_table.splitlines() if "lora" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[0] == "lora" and cells[2] == "1"  # one item
    assert cells[3].endswith(")") and "UTC" in cells[3]  # its next due time
    # The stats run caught the items up from the two transcripts.
    data = json.loads((folder / "practice" / "items.json").read_text("utf-8"))
    assert [r["rating"] for r in data["items"]["lora-principle/target-modules"]["reviews"]] == [
        "again",
        "good",
    ]
