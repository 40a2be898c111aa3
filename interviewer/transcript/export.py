"""Export a transcript as Markdown, a self-contained HTML page, or JSON.

Each answer is printed in full with the evidence quotes its grade relies on highlighted in
place (and the key points they support named); then a verdict per key point, with the
reviewer's override beside the judge's. Everything from the transcript is escaped: HTML
through `html.escape`, Markdown by backslash-escaping the characters that would format.
With a bank, key points are shown with their statements in the interview's language.
"""

from __future__ import annotations

import html
import re
from abc import ABC, abstractmethod
from typing import Literal

from interviewer.bank.bank import Bank
from interviewer.transcript.marks import Mark
from interviewer.transcript.review import overall
from interviewer.transcript.schema import Transcript
from interviewer.transcript.view import AttemptView, Evidence, TurnView, turn_view

Format = Literal["md", "html", "json"]


def export(transcript: Transcript, fmt: Format, bank: Bank | None = None) -> str:
    if fmt == "json":
        return transcript.model_dump_json(indent=2) + "\n"
    if fmt == "md":
        return _Markdown(transcript, bank).render()
    if fmt == "html":
        return _Html(transcript, bank).render()
    raise ValueError(f"unknown export format {fmt!r}: md, html or json")


# --- shared wording -------------------------------------------------------------------


class _Doc(ABC):
    """What both formats say, in the same order; each writes the parts in its own markup."""

    def __init__(self, transcript: Transcript, bank: Bank | None) -> None:
        self.t = transcript
        self.bank = bank
        self.lang = transcript.settings.lang

    def parts(self) -> list[str]:
        """The document's lines: head, each question, the one in progress, draft, report."""
        t, lang = self.t, self.lang
        out = self.head()
        for i, turn in enumerate(t.turns, start=1):
            out += self.turn(turn_view(i, turn, lang, self.bank))
        if t.current:
            out += self.current(turn_view(len(t.turns) + 1, t.current, lang, self.bank))
        if t.draft:
            out += self.draft(t.draft)
        if t.report:
            out += self.report()
        return out

    @abstractmethod
    def head(self) -> list[str]: ...

    @abstractmethod
    def turn(self, turn: TurnView) -> list[str]: ...

    @abstractmethod
    def current(self, current: TurnView) -> list[str]: ...

    @abstractmethod
    def draft(self, text: str) -> list[str]: ...

    @abstractmethod
    def report(self) -> list[str]: ...

    def settings_line(self) -> str:
        s = self.t.settings
        return (
            f"lang {s.lang}, mode {s.mode}, persona {s.persona}, judge {s.judge}, "
            f"interviewer {s.interviewer}, seed {s.seed}, questions {s.questions}"
            + (f", topics {', '.join(s.topics)}" if s.topics else "")
        )

    def overall_line(self) -> str:
        score = overall(self.t, self.bank)
        if score is None:
            return "no finished questions"
        live = self.t.report.overall if self.t.report else None
        extra = f" (at the interview: {live:.1f})" if live is not None and live != score else ""
        return f"{score:.1f}/100{extra}"

    @staticmethod
    def score_line(turn: TurnView) -> str:
        extra = f" (graded live: {turn.live_score:.1f})" if turn.score != turn.live_score else ""
        return f"{turn.score:.1f}/100{extra}"

    @staticmethod
    def title(turn: TurnView) -> str:
        return f"{turn.number}. {turn.question_id} ({turn.topic}, difficulty {turn.difficulty})"

    @staticmethod
    def attempt_title(a: AttemptView) -> str:
        if a.probes is None:
            return f"Answer {a.number}" if a.number > 1 else "Answer"
        return f"Answer {a.number} (follow-up on {a.probes})"

    @staticmethod
    def grade_line(a: AttemptView) -> str:
        out = ""
        if a.step is not None:
            out = f"question so far {a.step.score:.1f}/100 ({a.step.added('en')}); this answer "
        out += f"graded {a.score:.1f}/100 by {a.judge} at {a.at}"
        if a.flags:
            out += f"; flags: {', '.join(a.flags)}"
        return out

    @staticmethod
    def missing(e: Evidence) -> str:
        return f"{e.cite.label}: {e.quote}"


# --- Markdown ---------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")
_MD_LINE_START = re.compile(r"^(\s*)([-+>]|\d+\.)(\s)", re.MULTILINE)


def md_escape(text: str) -> str:
    """Inline text: characters that would format are backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_block(text: str) -> str:
    """Text of its own lines (an answer): also what would start a list or a quote."""
    return _MD_LINE_START.sub(_escape_marker, md_escape(text))


def _escape_marker(m: re.Match[str]) -> str:
    marker = m[2]
    escaped = f"{marker[:-1]}\\." if marker.endswith(".") else f"\\{marker}"
    return f"{m[1]}{escaped}{m[3]}"


def md_cell(text: str) -> str:
    return md_escape(text).replace("\n", " ").strip()


def md_bold(text: str) -> str:
    """Bold each line (emphasis cannot cross a line break, nor start or end on a space)."""
    out = []
    for line in text.split("\n"):
        core = line.strip()
        if not core:
            out.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        trail = line[len(line.rstrip()) :]
        out.append(f"{lead}**{md_block(core)}**{trail}")
    return "\n".join(out)


class _Markdown(_Doc):
    def render(self) -> str:
        return "\n".join(self.parts()).rstrip() + "\n"

    def head(self) -> list[str]:
        t = self.t
        return [
            f"# Interview {md_escape(t.id)}",
            "",
            f"- Started: {t.created}; last saved: {t.updated}",
            f"- Status: {'finished' if t.finished else 'unfinished'}",
            f"- Settings: {md_escape(self.settings_line())}",
            f"- Overall: {self.overall_line()}",
        ]

    def draft(self, text: str) -> list[str]:
        return ["", "## Unsent draft", "", *self.quote(text)]

    def quote(self, text: str) -> list[str]:
        return [f"> {line}" if line else ">" for line in text.split("\n")]

    def answer(self, attempt: AttemptView) -> list[str]:
        runs = attempt.runs
        rendered = ""
        for i, run in enumerate(runs):
            if not run.cites:
                rendered += md_block(run.text)
                continue
            rendered += md_bold(run.text) + f" *({md_escape('; '.join(run.labels))})*"
            if i + 1 < len(runs) and runs[i + 1].cites:
                rendered += " "
        out = self.quote(rendered)
        for m in attempt.missing:
            out.append(f"> *(quote not found in the answer: {md_escape(self.missing(m))})*")
        return out

    def attempts(self, turn: TurnView) -> list[str]:
        out: list[str] = []
        for a in turn.attempts:
            out += ["", f"### {md_escape(self.attempt_title(a))}", ""]
            if a.probes is not None:
                out += [f"*Asked:* {md_escape(a.prompt)}", ""]
            out += self.answer(a)
            out += ["", f"*{md_escape(self.grade_line(a))}*"]
        return out

    def turn(self, turn: TurnView) -> list[str]:
        out = ["", f"## {md_escape(self.title(turn))}", "", f"**Score:** {self.score_line(turn)}"]
        if turn.skipped:
            out[-1] += " — skipped"
        out += ["", f"**Question:** {md_escape(turn.question)}"]
        out += self.attempts(turn)
        out += self.verdicts(turn)
        if turn.misconceptions:
            out += ["", "Misconceptions:"]
            for m in turn.misconceptions:
                out.append(f"- {md_escape(m.id)} (-{m.penalty:g}): “{md_escape(m.evidence)}”")
        if turn.hinted:
            out += ["", f"Hints shown for: {md_escape(', '.join(turn.hinted))}"]
        if turn.overrides:
            out += ["", "### Reviewer overrides", ""]
            for o in turn.overrides:
                note = f": {md_escape(o.note)}" if o.note else ""
                out.append(f"- {md_escape(o.key_point)} → {o.verdict} ({o.at}){note}")
        if turn.regrades:
            out += ["", "### Regrades", ""]
            for r in turn.regrades:
                out.append(
                    f"- {md_escape(r.judge)} at {r.at}: {r.old_score:.1f} → {r.new_score:.1f}"
                )
        return out

    def verdicts(self, turn: TurnView) -> list[str]:
        out = [
            "",
            "### Verdicts",
            "",
            f"| key point | {md_cell(turn.judge)} | reviewer | evidence |",
            "|---|---|---|---|",
        ]
        for row in turn.rows:
            name = f"{row.key_point}: {row.statement}" if row.statement else row.key_point
            cell = _marked(row.reviewer) if row.reviewer else ""
            evidence = f"“{md_cell(row.evidence.quote)}”" if row.evidence else ""
            out.append(f"| {md_cell(name)} | {_marked(row.judge)} | {cell} | {evidence} |")
        return out

    def current(self, current: TurnView) -> list[str]:
        title = f"In progress: {current.question_id}"
        out = ["", f"## {md_escape(title)}", ""]
        out += [f"**Question:** {md_escape(current.question)}"]
        out += self.attempts(current)
        return out

    def report(self) -> list[str]:
        r = self.t.report
        assert r is not None
        out = ["", "## Report (at the interview)", "", f"Overall {r.overall:.1f}/100 ({r.band})"]
        if r.topics:
            out += ["", "| topic | average |", "|---|---|"]
            out += [f"| {md_cell(k)} | {v:.1f} |" for k, v in r.topics.items()]
        if r.strengths:
            out += ["", "Strengths:", *(f"- {md_escape(s)}" for s in r.strengths)]
        if r.missed:
            out += ["", "Missed key points:"]
            for m in r.missed:
                out.append(f"- {md_escape(m.text)}")
                if m.reference and m.reference != m.text:
                    out.append(f"  - reference: {md_escape(m.reference)}")
        if r.study_next:
            out += ["", f"Study next: {md_escape(', '.join(r.study_next))}"]
        return out


# --- HTML -------------------------------------------------------------------------------

CSS = """
body { font: 15px/1.6 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; }
h1, h2, h3 { line-height: 1.3; }
.meta { color: #555; }
.answer { white-space: pre-wrap; background: #f7f7f7; border-left: 4px solid #bbb;
          padding: .6rem .9rem; }
mark { padding: 0 .1rem; border-radius: 3px; }
mark.covered { background: #c8f0c8; }
mark.partial { background: #fbe7a6; }
mark.misconception { background: #f6c2c2; }
mark sup { font-size: .7em; color: #555; }
table { border-collapse: collapse; margin: .5rem 0; }
td, th { border: 1px solid #ccc; padding: .25rem .5rem; vertical-align: top; text-align: left; }
.v-covered { color: #17702a; } .v-partial { color: #8a6100; } .v-missed { color: #a11; }
.override { font-weight: bold; }
.missing { color: #a11; font-size: .9em; }
""".strip()


def esc(text: str) -> str:
    return html.escape(text, quote=True)


class _Html(_Doc):
    def render(self) -> str:
        lang, title = esc(self.lang), esc(self.t.id)
        return (
            f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Interview {title}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
            + "\n".join(self.parts())
            + "\n</body>\n</html>\n"
        )

    def head(self) -> list[str]:
        t = self.t
        return [
            f"<h1>Interview {esc(t.id)}</h1>",
            '<ul class="meta">',
            f"<li>Started: {esc(t.created)}; last saved: {esc(t.updated)}</li>",
            f"<li>Status: {'finished' if t.finished else 'unfinished'}</li>",
            f"<li>Settings: {esc(self.settings_line())}</li>",
            f"<li>Overall: {esc(self.overall_line())}</li>",
            "</ul>",
        ]

    def draft(self, text: str) -> list[str]:
        return ["<h2>Unsent draft</h2>", f'<div class="answer">{esc(text)}</div>']

    def answer(self, attempt: AttemptView) -> list[str]:
        rendered = ""
        for run in attempt.runs:
            if not run.cites:
                rendered += esc(run.text)
                continue
            covered = run.strongest == Mark.COVERED
            kind = "misconception" if run.misconception else "covered" if covered else "partial"
            tag = "; ".join(run.labels)
            rendered += (
                f'<mark class="{kind}" title="{esc(tag)}">{esc(run.text)}'
                f"<sup>{esc(tag)}</sup></mark>"
            )
        out = [f'<div class="answer">{rendered}</div>']
        out += [
            f'<p class="missing">quote not found in the answer: {esc(self.missing(m))}</p>'
            for m in attempt.missing
        ]
        return out

    def attempts(self, turn: TurnView) -> list[str]:
        out: list[str] = []
        for a in turn.attempts:
            out.append(f"<h3>{esc(self.attempt_title(a))}</h3>")
            if a.probes is not None:
                out.append(f"<p><em>Asked:</em> {esc(a.prompt)}</p>")
            out += self.answer(a)
            out.append(f'<p class="meta">{esc(self.grade_line(a))}</p>')
        return out

    def turn(self, turn: TurnView) -> list[str]:
        score = self.score_line(turn) + (" — skipped" if turn.skipped else "")
        out = [
            f'<section id="turn-{turn.number}">',
            f"<h2>{esc(self.title(turn))}</h2>",
            f"<p><strong>Score:</strong> {esc(score)}</p>",
            f"<p><strong>Question:</strong> {esc(turn.question)}</p>",
        ]
        out += self.attempts(turn)
        out += self.verdicts(turn)
        if turn.misconceptions:
            out.append("<p>Misconceptions:</p><ul>")
            for m in turn.misconceptions:
                out.append(f"<li>{esc(m.id)} (-{m.penalty:g}): “{esc(m.evidence)}”</li>")
            out.append("</ul>")
        if turn.hinted:
            out.append(f"<p>Hints shown for: {esc(', '.join(turn.hinted))}</p>")
        if turn.overrides:
            out.append("<h3>Reviewer overrides</h3><ul>")
            for o in turn.overrides:
                note = f": {esc(o.note)}" if o.note else ""
                out.append(f"<li>{esc(o.key_point)} → {esc(o.verdict)} ({esc(o.at)}){note}</li>")
            out.append("</ul>")
        if turn.regrades:
            out.append("<h3>Regrades</h3><ul>")
            for r in turn.regrades:
                out.append(
                    f"<li>{esc(r.judge)} at {esc(r.at)}: {r.old_score:.1f} → {r.new_score:.1f}</li>"
                )
            out.append("</ul>")
        out.append("</section>")
        return out

    def verdicts(self, turn: TurnView) -> list[str]:
        out = [
            "<h3>Verdicts</h3>",
            "<table>",
            f"<tr><th>key point</th><th>{esc(turn.judge)}</th><th>reviewer</th>"
            "<th>evidence</th></tr>",
        ]
        for row in turn.rows:
            name = f"<strong>{esc(row.key_point)}</strong>" + (
                f"<br>{esc(row.statement)}" if row.statement else ""
            )
            human = row.reviewer
            cell = (
                f'<span class="override v-{esc(human)}">{esc(_marked(human))}</span>'
                if human
                else ""
            )
            evidence = f"“{esc(row.evidence.quote)}”" if row.evidence else ""
            out.append(
                f'<tr><td>{name}</td><td class="v-{esc(row.judge)}">'
                f"{esc(_marked(row.judge))}</td><td>{cell}</td><td>{evidence}</td></tr>"
            )
        out.append("</table>")
        return out

    def current(self, current: TurnView) -> list[str]:
        out = [
            '<section id="current">',
            f"<h2>In progress: {esc(current.question_id)}</h2>",
            f"<p><strong>Question:</strong> {esc(current.question)}</p>",
        ]
        return [*out, *self.attempts(current), "</section>"]

    def report(self) -> list[str]:
        r = self.t.report
        assert r is not None
        out = [
            "<h2>Report (at the interview)</h2>",
            f"<p>Overall {r.overall:.1f}/100 ({esc(r.band)})</p>",
        ]
        if r.topics:
            out.append("<table><tr><th>topic</th><th>average</th></tr>")
            out += [f"<tr><td>{esc(k)}</td><td>{v:.1f}</td></tr>" for k, v in r.topics.items()]
            out.append("</table>")
        if r.strengths:
            out.append("<p>Strengths:</p><ul>")
            out += [f"<li>{esc(s)}</li>" for s in r.strengths]
            out.append("</ul>")
        if r.missed:
            out.append("<p>Missed key points:</p><ul>")
            for m in r.missed:
                ref = (
                    f"<br><small>reference: {esc(m.reference)}</small>"
                    if m.reference and m.reference != m.text
                    else ""
                )
                out.append(f"<li>{esc(m.text)}{ref}</li>")
            out.append("</ul>")
        if r.study_next:
            out.append(f"<p>Study next: {esc(', '.join(r.study_next))}</p>")
        return out


def _marked(mark: Mark) -> str:
    """A verdict with its glyph, e.g. "✓ covered"."""
    return f"{mark.glyph} {mark}"
