"""Export a transcript as Markdown, a self-contained HTML page, or JSON.

Each answer is printed in full with the evidence quotes its grade relies on highlighted in
place (and the key points they support named); then a verdict per key point, with the
reviewer's override beside the judge's. Everything from the transcript is escaped: HTML
through `html.escape`, Markdown by backslash-escaping the characters that would format.
With a bank, key points are shown with their statements in the interview's language.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from typing import Literal

from interviewer.bank.bank import Bank
from interviewer.judge import progress
from interviewer.transcript.review import base_grade, overall, turn_score
from interviewer.transcript.schema import Attempt, Current, Transcript, Turn

Format = Literal["md", "html", "json"]
MARKS = {"covered": "✓", "partial": "~", "missed": "✗"}


def export(transcript: Transcript, fmt: Format, bank: Bank | None = None) -> str:
    if fmt == "json":
        return transcript.model_dump_json(indent=2) + "\n"
    if fmt == "md":
        return _Markdown(transcript, bank).render()
    if fmt == "html":
        return _Html(transcript, bank).render()
    raise ValueError(f"unknown export format {fmt!r}: md, html or json")


# --- evidence spans -------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A run of answer text; `labels` name what it is evidence of (empty: plain text)."""

    text: str
    labels: tuple[str, ...] = ()
    misconception: bool = False


def pieces(attempt: Attempt) -> tuple[list[Piece], list[str]]:
    """The answer cut into plain and highlighted runs, and quotes not found in it."""
    text = attempt.answer
    spans: list[tuple[int, int, str, bool]] = []
    missing: list[str] = []
    quotes = [(v.evidence, f"{v.key_point}: {v.verdict}", False) for v in attempt.grade.verdicts]
    quotes += [(m.evidence, f"misconception {m.id}", True) for m in attempt.grade.misconceptions]
    for quote, label, wrong in quotes:
        if not quote.strip():
            continue
        start = text.find(quote)
        if start < 0:
            missing.append(f"{label}: {quote}")
            continue
        spans.append((start, start + len(quote), label, wrong))
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    out: list[Piece] = []
    for a, b in itertools.pairwise(cuts):
        inside = [s for s in spans if s[0] <= a and b <= s[1]]
        labels = tuple(dict.fromkeys(label for _, _, label, _ in inside))
        piece = Piece(text[a:b], labels, any(w for _, _, _, w in inside))
        if out and out[-1].labels == piece.labels and out[-1].misconception == piece.misconception:
            out[-1] = Piece(out[-1].text + piece.text, labels, piece.misconception)
        else:
            out.append(piece)
    return out, missing


# --- shared wording -------------------------------------------------------------------


class _Doc:
    def __init__(self, transcript: Transcript, bank: Bank | None) -> None:
        self.t = transcript
        self.bank = bank
        self.lang = transcript.settings.lang

    def statement(self, question_id: str, key_point: str) -> str:
        rubric = self.bank.rubrics.get(question_id) if self.bank else None
        if rubric is None:
            return ""
        for kp in rubric.key_points:
            if kp.id == key_point:
                return kp.text.get(self.lang)
        return ""

    def question_text(self, turn: Turn | Current) -> str:
        asked = next((m.text for m in turn.shown if m.kind == "question"), "")
        if asked:
            return asked
        q = self.bank.questions.get(turn.question_id) if self.bank else None
        return q.prompt.get(self.lang) if q else ""

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

    def score_line(self, turn: Turn) -> str:
        now = turn_score(turn, self.bank)
        extra = f" (graded live: {turn.score:.1f})" if now != turn.score else ""
        return f"{now:.1f}/100{extra}"

    @staticmethod
    def attempt_title(i: int, attempt: Attempt) -> str:
        if attempt.probes is None:
            return f"Answer {i}" if i > 1 else "Answer"
        return f"Answer {i} (follow-up on {attempt.probes})"

    def running(self, turn: Turn | Current) -> list[progress.Step | None]:
        """The question's running grade after each answer (None without its rubric)."""
        rubric = self.bank.rubrics.get(turn.question_id) if self.bank else None
        if rubric is None:
            return [None] * len(turn.attempts)
        grades = [a.grade for a in turn.attempts]
        return list(progress.running(rubric, grades, list(turn.hinted), ""))

    @staticmethod
    def grade_line(attempt: Attempt, step: progress.Step | None = None) -> str:
        g = attempt.grade
        out = ""
        if step is not None:
            out = f"question so far {step.score:.1f}/100 ({step.added('en')}); this answer "
        out += f"graded {g.score:.1f}/100 by {g.judge} at {attempt.at}"
        if g.flags:
            out += f"; flags: {', '.join(g.flags)}"
        return out


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
        t = self.t
        out = [
            f"# Interview {md_escape(t.id)}",
            "",
            f"- Started: {t.created}; last saved: {t.updated}",
            f"- Status: {'finished' if t.finished else 'unfinished'}",
            f"- Settings: {md_escape(self.settings_line())}",
            f"- Overall: {self.overall_line()}",
        ]
        for i, turn in enumerate(t.turns, start=1):
            out += self.turn(i, turn)
        if t.current:
            out += self.current(t.current)
        if t.draft:
            out += ["", "## Unsent draft", "", *self.quote(t.draft)]
        if t.report:
            out += self.report()
        return "\n".join(out).rstrip() + "\n"

    def quote(self, text: str) -> list[str]:
        return [f"> {line}" if line else ">" for line in text.split("\n")]

    def answer(self, attempt: Attempt) -> list[str]:
        parts, missing = pieces(attempt)
        rendered = ""
        for i, p in enumerate(parts):
            if not p.labels:
                rendered += md_block(p.text)
                continue
            rendered += md_bold(p.text) + f" *({md_escape('; '.join(p.labels))})*"
            if i + 1 < len(parts) and parts[i + 1].labels:
                rendered += " "
        out = self.quote(rendered)
        for m in missing:
            out.append(f"> *(quote not found in the answer: {md_escape(m)})*")
        return out

    def attempts(
        self, attempts: list[Attempt], level: str, steps: list[progress.Step | None]
    ) -> list[str]:
        out: list[str] = []
        for i, (a, step) in enumerate(zip(attempts, steps, strict=True), start=1):
            out += ["", f"{level} {md_escape(self.attempt_title(i, a))}", ""]
            if a.probes is not None:
                out += [f"*Asked:* {md_escape(a.prompt)}", ""]
            out += self.answer(a)
            out += ["", f"*{md_escape(self.grade_line(a, step))}*"]
        return out

    def turn(self, i: int, turn: Turn) -> list[str]:
        title = f"{i}. {turn.question_id} ({turn.topic}, difficulty {turn.difficulty})"
        out = ["", f"## {md_escape(title)}", "", f"**Score:** {self.score_line(turn)}"]
        if turn.skipped:
            out[-1] += " — skipped"
        out += ["", f"**Question:** {md_escape(self.question_text(turn))}"]
        out += self.attempts(turn.attempts, "###", self.running(turn))
        out += self.verdicts(turn)
        grade = base_grade(turn)
        if grade.misconceptions:
            out += ["", "Misconceptions:"]
            for m in grade.misconceptions:
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

    def verdicts(self, turn: Turn) -> list[str]:
        grade = base_grade(turn)
        out = [
            "",
            "### Verdicts",
            "",
            f"| key point | {md_cell(grade.judge)} | reviewer | evidence |",
            "|---|---|---|---|",
        ]
        reviewed = {o.key_point: o.verdict for o in turn.overrides}
        for v in grade.verdicts:
            text = self.statement(turn.question_id, v.key_point)
            name = f"{v.key_point}: {text}" if text else v.key_point
            human = reviewed.get(v.key_point)
            cell = f"{MARKS[human]} {human}" if human else ""
            evidence = f"“{md_cell(v.evidence)}”" if v.evidence else ""
            out.append(
                f"| {md_cell(name)} | {MARKS[v.verdict]} {v.verdict} | {cell} | {evidence} |"
            )
        return out

    def current(self, current: Current) -> list[str]:
        title = f"In progress: {current.question_id}"
        out = ["", f"## {md_escape(title)}", ""]
        out += [f"**Question:** {md_escape(self.question_text(current))}"]
        out += self.attempts(current.attempts, "###", self.running(current))
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
        t = self.t
        body = [
            f"<h1>Interview {esc(t.id)}</h1>",
            '<ul class="meta">',
            f"<li>Started: {esc(t.created)}; last saved: {esc(t.updated)}</li>",
            f"<li>Status: {'finished' if t.finished else 'unfinished'}</li>",
            f"<li>Settings: {esc(self.settings_line())}</li>",
            f"<li>Overall: {esc(self.overall_line())}</li>",
            "</ul>",
        ]
        for i, turn in enumerate(t.turns, start=1):
            body += self.turn(i, turn)
        if t.current:
            body += self.current(t.current)
        if t.draft:
            body += ["<h2>Unsent draft</h2>", f'<div class="answer">{esc(t.draft)}</div>']
        if t.report:
            body += self.report()
        lang = esc(self.lang)
        return (
            f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Interview {esc(t.id)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )

    def answer(self, attempt: Attempt) -> list[str]:
        parts, missing = pieces(attempt)
        rendered = ""
        for p in parts:
            if not p.labels:
                rendered += esc(p.text)
                continue
            verdict = "misconception" if p.misconception else _strongest(p.labels)
            tag = "; ".join(p.labels)
            rendered += (
                f'<mark class="{verdict}" title="{esc(tag)}">{esc(p.text)}'
                f"<sup>{esc(tag)}</sup></mark>"
            )
        out = [f'<div class="answer">{rendered}</div>']
        out += [f'<p class="missing">quote not found in the answer: {esc(m)}</p>' for m in missing]
        return out

    def attempts(self, attempts: list[Attempt], steps: list[progress.Step | None]) -> list[str]:
        out: list[str] = []
        for i, (a, step) in enumerate(zip(attempts, steps, strict=True), start=1):
            out.append(f"<h3>{esc(self.attempt_title(i, a))}</h3>")
            if a.probes is not None:
                out.append(f"<p><em>Asked:</em> {esc(a.prompt)}</p>")
            out += self.answer(a)
            out.append(f'<p class="meta">{esc(self.grade_line(a, step))}</p>')
        return out

    def turn(self, i: int, turn: Turn) -> list[str]:
        title = f"{i}. {turn.question_id} ({turn.topic}, difficulty {turn.difficulty})"
        score = self.score_line(turn) + (" — skipped" if turn.skipped else "")
        out = [
            f'<section id="turn-{i}">',
            f"<h2>{esc(title)}</h2>",
            f"<p><strong>Score:</strong> {esc(score)}</p>",
            f"<p><strong>Question:</strong> {esc(self.question_text(turn))}</p>",
        ]
        out += self.attempts(turn.attempts, self.running(turn))
        out += self.verdicts(turn)
        grade = base_grade(turn)
        if grade.misconceptions:
            out.append("<p>Misconceptions:</p><ul>")
            for m in grade.misconceptions:
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

    def verdicts(self, turn: Turn) -> list[str]:
        grade = base_grade(turn)
        reviewed = {o.key_point: o.verdict for o in turn.overrides}
        out = [
            "<h3>Verdicts</h3>",
            "<table>",
            f"<tr><th>key point</th><th>{esc(grade.judge)}</th><th>reviewer</th>"
            "<th>evidence</th></tr>",
        ]
        for v in grade.verdicts:
            text = self.statement(turn.question_id, v.key_point)
            name = f"<strong>{esc(v.key_point)}</strong>" + (f"<br>{esc(text)}" if text else "")
            human = reviewed.get(v.key_point)
            cell = (
                f'<span class="override v-{esc(human)}">{MARKS[human]} {esc(human)}</span>'
                if human
                else ""
            )
            evidence = f"“{esc(v.evidence)}”" if v.evidence else ""
            out.append(
                f'<tr><td>{name}</td><td class="v-{esc(v.verdict)}">'
                f"{MARKS[v.verdict]} {esc(v.verdict)}</td><td>{cell}</td><td>{evidence}</td></tr>"
            )
        out.append("</table>")
        return out

    def current(self, current: Current) -> list[str]:
        out = [
            '<section id="current">',
            f"<h2>In progress: {esc(current.question_id)}</h2>",
            f"<p><strong>Question:</strong> {esc(self.question_text(current))}</p>",
        ]
        return [*out, *self.attempts(current.attempts, self.running(current)), "</section>"]

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


def _strongest(labels: tuple[str, ...]) -> str:
    verdicts = [label.rsplit(": ", 1)[-1] for label in labels]
    return "covered" if "covered" in verdicts else "partial"
