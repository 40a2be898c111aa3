"""Batch outputs: results JSONL (the contract), CSV, and a Markdown or HTML report.

Results are strict JSON (no NaN or Infinity) in UTF-8: a result that cannot be written so
(a lone surrogate in its id, a score that is not a number) is written as an error row
that names its line, so one bad row never costs the others. CSV cells that a spreadsheet
would run as a formula (starting with = + - @, a tab or a CR) are prefixed with `'`.

Every output is written whole through `fsutil.atomic_write` (0600: it holds the students'
answers): a write that fails part-way (a full disk, a Ctrl+C) leaves the previous file as it
was, never a truncated one in its place. Each is built in memory first, as one string.
"""

from __future__ import annotations

import csv
import html
import io
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from interviewer.batch.inputs import printable
from interviewer.batch.runner import BatchResult
from interviewer.fsutil import atomic_write

BANDS = [(0, 20), (20, 40), (40, 60), (60, 80), (80, 101)]
CSV_COLUMNS = [
    "id", "line", "question_id", "score", "scaled_score", "covered", "partial", "missed",
    "misconceptions", "flags", "judge", "error",
]  # fmt: skip
STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _json_line(result: BatchResult) -> str:
    data = result.model_dump(exclude_none=True)
    data.setdefault("error", None)
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")  # a lone surrogate cannot be written as UTF-8
    return text


def safe_results(results: list[BatchResult]) -> list[BatchResult]:
    """The results, each one that cannot be written as strict JSON made an error row."""
    out: list[BatchResult] = []
    for r in results:
        try:
            _json_line(r)
        except UnicodeEncodeError:
            r = _unwritable(r, "a lone surrogate in its text")
        except ValueError:
            r = _unwritable(r, "a number that is NaN or infinite")
        out.append(r)
    return out


def _unwritable(r: BatchResult, reason: str) -> BatchResult:
    return BatchResult(
        id=printable(r.id),
        line=r.line,
        error=f"line {r.line}: the result could not be written ({reason}); fix the row and "
        "run again",
    )


def write_jsonl(results: list[BatchResult], path: Path) -> None:
    """Write the results, one strict JSON line each, whole or not at all."""
    _replace(path, "".join(_json_line(r) + "\n" for r in safe_results(results)))


def _replace(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically. A symlink is followed, as writing in place
    did: the file it points to is replaced, in its own folder (the one `check_outputs`
    proved writable), and the link stays."""
    atomic_write(path.resolve(), text)


def _cell(value: object) -> object:
    if not isinstance(value, str):
        return value
    value = printable(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def write_csv(results: list[BatchResult], path: Path) -> None:
    """Write the CSV whole or not at all: UTF-8 with a byte-order mark, which Excel needs
    to read it as UTF-8."""
    _replace(path, "\ufeff" + csv_text(results))


def csv_text(results: list[BatchResult]) -> str:
    """The CSV: a header, then one row per result with its verdicts counted."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for r in results:
        writer.writerow([_cell(v) for v in _csv_row(r)])
    return buffer.getvalue()


def _csv_row(r: BatchResult) -> list[object]:
    counts = Counter(v.verdict for v in r.verdicts)
    return [
        r.id,
        r.line,
        r.question_id or "",
        "" if r.score is None else r.score,
        "" if r.scaled_score is None else r.scaled_score,
        counts["covered"],
        counts["partial"],
        counts["missed"],
        ";".join(r.misconceptions),
        ";".join(r.flags),
        r.judge or "",
        r.error or "",
    ]


def write_report(results: list[BatchResult], source: str, path: Path) -> None:
    """Write the report whole or not at all: HTML for a .html or .htm path, else Markdown."""
    is_html = path.suffix.lower() in (".html", ".htm")
    _replace(path, html_report(results, source) if is_html else markdown_report(results, source))


def summary(results: list[BatchResult]) -> dict[str, object]:
    graded = [r for r in results if r.score is not None]
    scores = [r.score for r in graded if r.score is not None]
    per_question: dict[str, list[float]] = defaultdict(list)
    missed: Counter[tuple[str, str]] = Counter()
    for r in graded:
        per_question[r.question_id or "(ad hoc)"].append(r.score or 0.0)
        for v in r.verdicts:
            if v.verdict == "missed" and r.question_id:
                missed[(r.question_id, v.key_point)] += 1
    distribution = {
        f"{lo}-{min(hi, 100)}": sum(1 for s in scores if lo <= s < hi) for lo, hi in BANDS
    }
    return {
        "rows": len(results),
        "graded": len(graded),
        "errors": sum(1 for r in results if r.error),
        "flagged": sum(1 for r in graded if r.flags),
        "mean": round(statistics.fmean(scores), 1) if scores else None,
        "median": round(statistics.median(scores), 1) if scores else None,
        "distribution": distribution,
        "per_question": {
            q: {"n": len(s), "mean": round(statistics.fmean(s), 1)}
            for q, s in sorted(per_question.items(), key=lambda kv: statistics.fmean(kv[1]))
        },
        "most_missed": [
            {"question_id": q, "key_point": k, "rows": n} for (q, k), n in missed.most_common(10)
        ],
    }


def markdown_report(results: list[BatchResult], source: str) -> str:
    s = summary(results)
    out = [
        f"# Batch grading report: {source}",
        "",
        f"{s['rows']} rows: {s['graded']} graded, {s['errors']} errors, {s['flagged']} flagged. "
        f"Mean score {s['mean']}, median {s['median']}.",
        "",
        "## Score distribution",
        "",
        "| band | rows | |",
        "|---|---:|---|",
    ]
    dist = s["distribution"]
    assert isinstance(dist, dict)
    peak = max(dist.values(), default=0) or 1
    for band, n in dist.items():
        out.append(f"| {band} | {n} | {'█' * round(20 * n / peak)} |")
    out += ["", "## Per question", "", "| question | rows | mean |", "|---|---:|---:|"]
    per_question = s["per_question"]
    assert isinstance(per_question, dict)
    for q, info in per_question.items():
        out.append(f"| {q} | {info['n']} | {info['mean']} |")
    out += [
        "",
        "## Most-missed key points",
        "",
        "| question | key point | rows |",
        "|---|---|---:|",
    ]
    most_missed = s["most_missed"]
    assert isinstance(most_missed, list)
    for m in most_missed:
        out.append(f"| {m['question_id']} | {m['key_point']} | {m['rows']} |")
    flagged = [r for r in results if r.flags or r.error]
    out += [
        "",
        "## Flagged and failed rows",
        "",
        "| id | line | score | flags | error |",
        "|---|---:|---:|---|---|",
    ]
    for r in flagged:
        score = "" if r.score is None else f"{r.score:g}"
        error = (r.error or "").replace("|", "\\|")
        row_id = r.id.replace("|", "\\|")
        out.append(f"| {row_id} | {r.line} | {score} | {', '.join(r.flags)} | {error} |")
    return printable("\n".join(out) + "\n")


def html_report(results: list[BatchResult], source: str) -> str:
    """The Markdown report's tables as a standalone HTML page."""
    body: list[str] = []
    in_table = False
    for line in markdown_report(results, source).splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        body.append("</table>")
    head = f"<!doctype html><meta charset='utf-8'><title>{html.escape(source)}</title>"
    return f"{head}<style>{STYLE}</style>\n" + "\n".join(body) + "\n"
