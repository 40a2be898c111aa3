"""Plain mode: the interview on stdin/stdout, for scripts and for terminals without the TUI.

Contract: an answer ends at a blank line; `/skip`, `/hint`, `/repeat`, `/explain`, `/quit` on a
line of their own are commands, also after lines of an answer: /hint, /repeat and /explain
keep the lines typed so far, to go on with after them (/explain shows the reference answer
of the question last graded; in exam mode only after the end); /skip drops them with the
question; /quit sends them as the last answer and ends. End of input ends the interview
(sending any lines typed), saves the transcript and prints the report; the last line printed is the
transcript's path. Each line of an answer is saved as a draft as it is typed, and
`--resume` shows it again and lets you go on with it. An answer longer than 20,000
characters is cut there and its grade flagged `truncated`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from interviewer.errors import InterviewerError
from interviewer.interview import explain, testhooks
from interviewer.interview.graph import MAX_ANSWER_CHARS
from interviewer.interview.notsaved import NotSaved
from interviewer.interview.report import render_text
from interviewer.interview.session import Session
from interviewer.interview.state import Message
from interviewer.transcript.unsaved import why_not_saved

COMMANDS = {
    "/skip": "skip",
    "/hint": "hint",
    "/quit": "quit",
    "/repeat": "repeat",
    "/explain": "explain",
}
KEPT = {
    "zh": "（你上次没发出的回答已保留如下；接着输入，空行发送全部内容）",
    "en": "(Your unsent answer was kept, below; type on, and a blank line sends it all.)",
}
HELP = {
    "zh": "（回答以空行结束；单独一行输入 /hint 提示、/skip 跳过、/repeat 重复问题、"
    "/explain 评分后看参考答案、/quit 结束）",
    "en": "(End answers with a blank line. Alone on a line: /hint, /skip, /repeat, "
    "/explain (the reference, once graded), /quit.)",
}


def read_reply(
    stdin: TextIO, draft: str = "", on_line: Callable[[str], object] | None = None
) -> tuple[str, str] | None:
    """The next reply: (action, text). None at end of input with nothing typed.

    `draft` is an answer begun before (kept across a crash, or a /hint); new lines continue
    it. For "answer", text is the answer; for a command, the lines typed before it (see
    the module's contract). Each line typed is passed to `on_line` with the answer so far
    (up to MAX_ANSWER_CHARS), which saves it as a draft.
    """
    lines: list[str] = draft.splitlines() if draft.strip() else []
    saved = "\n".join(lines)
    testhooks.point("read")
    while True:
        line = stdin.readline()
        if not line:  # end of input
            return ("answer", "\n".join(lines).strip()) if lines else None
        stripped = line.strip()
        if stripped in COMMANDS:
            return COMMANDS[stripped], "\n".join(lines).strip()
        if not stripped:
            if lines:
                return "answer", "\n".join(lines).strip()
            continue  # blank lines before an answer are ignored
        lines.append(line.rstrip("\n"))
        text = "\n".join(lines)[:MAX_ANSWER_CHARS]
        if on_line is not None and text != saved:  # (past the cap, nothing more to save)
            on_line(text)
            saved = text


def show(messages: list[Message], out: TextIO) -> None:
    for m in messages:
        if m["role"] == "candidate":
            continue
        if m["role"] == "system":
            out.write("\n".join(f"   {line}" for line in m["text"].splitlines()) + "\n")
        else:
            out.write(f"» {m['text']}\n")
    out.flush()


def run_plain(session: Session, stdin: TextIO, stdout: TextIO, resumed: bool = False) -> int:
    lang = session.ctx.lang
    draft = ""
    if resumed:
        stdout.write(f"(resuming {session.interview_id})\n")
        said(stdout, session.finish_pending)  # a step a crash cut short runs first
        show(session.pending_prompt(), stdout)
        draft = session.saved_draft()
        if draft.strip():
            stdout.write(f"{KEPT[lang]}\n{draft}\n")
    else:
        stdout.write(f"(interview {session.interview_id}) {HELP[lang]}\n")
        show(said(stdout, session.start), stdout)
    ended_input = False
    warned: list[bool] = []

    def autosave(text: str) -> None:
        """Save the lines typed so far; a failure is said once, and typing goes on (the
        answer is sent as usual, and kept by the checkpoint once sent)."""
        try:
            session.save(draft=text)
        except Exception as exc:
            if not warned:
                stdout.write(f"(the draft could not be saved: {why_not_saved(exc)})\n")
                stdout.flush()
                warned.append(True)

    while not session.done:
        reply = None
        if not ended_input:
            # Every line typed is saved as a draft: a crash mid-answer loses nothing.
            reply = read_reply(stdin, draft, on_line=autosave)
        if reply is None:
            show(said(stdout, session.send, "quit"), stdout)
            break
        action, text = reply
        draft = ""
        if action == "explain":  # shown here; the interview does not move
            draft = text
            found = explain.explain(session.standing(), session.bank, lang, session.ctx.mode)
            stdout.write(explain.render_text(found, lang) + "\n")
            stdout.flush()
        elif action in ("hint", "repeat"):
            draft = text  # the lines typed so far: go on with them after the hint
            show(said(stdout, session.send, action, draft=draft), stdout)
        elif action == "answer" or (action == "quit" and text):
            if text:
                show(said(stdout, session.send, "answer", text), stdout)
            if action == "quit" and not session.done:
                show(said(stdout, session.send, "quit"), stdout)
        else:  # skip (its lines go with the question), or quit
            show(said(stdout, session.send, action), stdout)
        if stdin.closed:
            ended_input = True
    report = session.values.get("report")
    if report:
        stdout.write(render_text(report, lang) + "\n")
    try:
        path = session.save()
    except Exception as exc:
        raise InterviewerError(
            f"the transcript could not be saved ({why_not_saved(exc)}); every answer is in the "
            "interview's checkpoint",
            hint="Once the transcripts folder can be written, `interviewer interview "
            f"--resume {session.interview_id}` saves it and shows the report.",
        ) from None
    stdout.write(f"{path}\n")
    stdout.flush()
    return 0


def said(out: TextIO, step: Callable[..., list[Message]], *args: str, **kw: str) -> list[Message]:
    """What `step(*args, **kw)` said. When the step was taken but its transcript could not
    be written, that is said too and the interview goes on: the checkpoint keeps every
    answer."""
    try:
        return step(*args, **kw)
    except NotSaved as exc:
        out.write(f"({exc}; the interview goes on: the checkpoint keeps every answer)\n")
        out.flush()
        return exc.messages
