"""TUI responsiveness.

    python -m benchmarks.tui [--runs 5]

1. Launch to first question: tmux starts `interviewer --topic coding --questions 2` (the
   offline judge, warm disk: one unmeasured run first) and the clock stops when the pane
   shows the question panel. Target: <= 1.5 s. Also reported: launch until the session
   behind it is ready (it opens in a worker while the question is already on screen, and
   an answer sent before then goes in when it is).
2. Key-press latency, in Textual's headless pilot: a 10 ms timer on the app records how
   late it fires while the session opens, and while a long answer is graded (the offline
   judge, in a worker thread); keys are handled on that loop, so its lag bounds their
   latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def pane(session: str) -> str:
    out = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True)
    return out.stdout.decode("utf-8", "replace")


def launch_once(tmp: Path) -> tuple[float, float]:
    """Seconds from launch until the first question is on screen, and until the session
    behind it is ready (it has saved its first transcript)."""
    shutil.rmtree(tmp / "transcripts", ignore_errors=True)
    session = f"bench-{os.getpid()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INTERVIEWER_", "TMUX"))},
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "INTERVIEWER_TRANSCRIPTS_DIR": str(tmp / "transcripts"),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
    }
    command = f"{sys.executable} -m interviewer --topic coding --questions 2 --lang en"
    started = time.perf_counter()
    started_tmux = subprocess.run(
        ["tmux", "-u", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if started_tmux.returncode != 0:
        raise RuntimeError(f"tmux could not start: {started_tmux.stderr.strip()}")
    try:
        shown = 0.0
        while time.perf_counter() - started < 60:
            if not shown and "Question 1/2" in pane(session):
                shown = time.perf_counter() - started
            # Ready for an answer: the session has started and saved its transcript.
            if shown and any((tmp / "transcripts").glob("*.json")):
                return shown, time.perf_counter() - started
            time.sleep(0.01)
        raise RuntimeError("the first question never appeared, or the session never started")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


async def key_latency(tmp: Path) -> dict[str, list[float]]:
    """Event-loop lag: a 10 ms timer on the app records how late each of its ticks fires.
    A key press is handled on the same loop, so the lag bounds its latency (the pilot's own
    `press` waits for the app to go idle, so it cannot time this). Two windows: while the
    session opens in a worker (LangGraph's import holds the GIL), and while a grade runs."""
    from textual.widgets import TextArea

    from interviewer.config import load_settings
    from interviewer.interview.context import InterviewContext
    from interviewer.tui.app import InterviewerApp

    os.environ["XDG_DATA_HOME"] = str(tmp / "data")
    settings = load_settings(transcripts_dir=tmp / "transcripts")
    ctx = InterviewContext(topics=["coding"], questions=2, seed=1, lang="en")
    app = InterviewerApp(settings, ctx=ctx)
    lags: dict[str, list[float]] = {"opening": [], "grading": []}
    window = "opening"
    last = time.perf_counter()

    def tick() -> None:
        nonlocal last
        now = time.perf_counter()
        lags[window].append(max(0.0, now - last - 0.01))
        last = now

    async with app.run_test(size=(100, 30)):
        last = time.perf_counter()
        timer = app.set_interval(0.01, tick)
        while app.session is None or app.screen.busy:  # type: ignore[attr-defined]
            await asyncio.sleep(0.005)
        timer.stop()
        await app.workers.wait_for_complete()
        await asyncio.sleep(3)  # let the judge's warm-up thread finish
        area = app.screen.query_one("#answer", TextArea)
        # A long on-topic answer (the reference answer, restated 20 times with numbers that
        # make every sentence new), so that the grade really embeds and matches it all.
        session = app.session
        assert session is not None
        question_id = session.values["current"]["question_id"]
        reference = session.bank.rubric(question_id).reference_answer.en
        area.insert(" ".join(f"Point {i}: {reference}" for i in range(20)))
        window = "grading"
        last = time.perf_counter()
        timer = app.set_interval(0.01, tick)
        graded_from = time.perf_counter()
        app.screen.submit_answer()  # type: ignore[attr-defined]
        while app.screen.busy:  # type: ignore[attr-defined]
            await asyncio.sleep(0.005)
        took = time.perf_counter() - graded_from
        timer.stop()
        print(f"(the grade took {took:.2f} s; {len(lags['grading'])} ticks while it ran)")
    for name, values in lags.items():
        if not values:
            raise RuntimeError(f"no timer tick while {name}")
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("tmux"):
            launch_once(Path(tmp))  # warm the disk and the caches
            runs = [launch_once(Path(tmp)) for _ in range(args.runs)]
            for i, name in enumerate(("first question on screen", "session ready")):
                times = sorted(r[i] for r in runs)
                print(
                    f"launch to {name}: median {statistics.median(times):.2f} s, "
                    f"max {times[-1]:.2f} s over {len(times)} runs"
                    + (" (target <= 1.5 s)" if i == 0 else "")
                )
        else:
            print("launch to first question: skipped (no tmux)")
        for name, values in asyncio.run(key_latency(Path(tmp))).items():
            lag = sorted(values)
            p95 = lag[min(len(lag) - 1, int(len(lag) * 0.95))]
            print(
                f"event-loop lag while {name} (bounds key-press latency): median "
                f"{statistics.median(lag) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
                f"max {lag[-1] * 1000:.1f} ms over {len(lag)} ticks"
            )


if __name__ == "__main__":
    main()
