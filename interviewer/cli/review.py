"""`interviewer review ...`: list, show, export, regrade and override saved interviews."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from interviewer.bank.bank import Bank
from interviewer.cli.common import ApiKeyEnvOpt, console, err_console, handles_errors
from interviewer.errors import InterviewerError
from interviewer.fsutil import atomic_write, same_file

if TYPE_CHECKING:
    from interviewer.config import Settings
    from interviewer.transcript.marks import Mark
    from interviewer.transcript.schema import Transcript
    from interviewer.transcript.store import Change, Transcripts
    from interviewer.transcript.view import AttemptView, TurnView

# Transcript modules load the judges' schema (and numpy): imported inside the commands,
# so that `interviewer --help` stays quick.

app = typer.Typer(
    help=(
        "Review saved interviews: every answer with the evidence behind each verdict, "
        "regrade with another judge, override a verdict, export.\n\n"
        "Example: interviewer review show 20250101-093000-ab12"
    ),
    no_args_is_help=True,
)

DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        "--transcripts",
        help="Transcripts folder (default: the configured store: the database when "
        "database_url is set, else transcripts/ in the data folder or transcripts_dir from "
        "settings).",
    ),
]
BankOpt = Annotated[
    Path | None,
    typer.Option("--bank", help="Bank folder for key point texts (default: from settings)."),
]
IdOrPathArg = Annotated[
    str,
    typer.Argument(
        help="An interview id from `interviewer review list`, or the path of a transcript "
        "file (such as an example: transcripts/20261123-091153-1a34.json)."
    ),
]

HIGHLIGHT = {"covered": "black on green", "partial": "black on yellow"}


def store_of(path: Path | None) -> Transcripts:
    """The folder `path`, or with no --dir the configured store (the database's when
    database_url is set, else the data folder's transcripts)."""
    from interviewer.config import load_settings
    from interviewer.transcript.store import TranscriptStore, open_transcripts

    return TranscriptStore(path) if path is not None else open_transcripts(load_settings())


def where_of(path: Path | None) -> str:
    """Where `store_of(path)` reads, for messages (a database URL with its password masked)."""
    from interviewer.config import load_settings
    from interviewer.transcript.store import label_of

    return str(path) if path is not None else label_of(load_settings())


def existing_folder(path: Path | None) -> Path | None:
    """`path` (a --dir to read), which must be an existing folder; None stays None."""
    if path is None or path.is_dir():
        return path
    if not path.exists():
        raise InterviewerError(
            f"--dir {path}: the folder does not exist",
            hint="Give the folder that holds the transcripts, or leave out --dir to use "
            "the configured store.",
        )
    raise InterviewerError(
        f"--dir {path}: not a folder", hint="Give the folder that holds the transcripts."
    )


def locate(target: str, folder: Path | None) -> tuple[Transcripts, str]:
    """The store and id of the interview `target` names: the path of a transcript file
    (ending in .json, such as one of the repository's examples), or an id in the folder."""
    from interviewer.transcript.store import TranscriptStore

    if target.endswith(".json"):
        path = Path(target)
        if not path.is_file():
            raise InterviewerError(f"{path}: no such transcript file")
        return TranscriptStore(path.parent), path.stem
    return store_of(existing_folder(folder)), target


def refuse_overwrite(out: Path, store: Transcripts, interview_id: str) -> None:
    """Refuse an --out that is the transcript file being exported, or any other transcript
    of its folder (an export is not a transcript: writing it there destroys one)."""
    from interviewer.transcript.store import TranscriptStore

    if not isinstance(store, TranscriptStore):
        refuse_own_files(out)  # a database row: but the files beside it
        return
    source = store.path(interview_id)
    if same_file(out, source):
        raise InterviewerError(
            f"--out {out}: that is the transcript being exported ({source}); writing there "
            "would destroy it",
            hint="Choose another --out path.",
        )
    for other in store.ids():
        if same_file(out, store.path(other)):
            raise InterviewerError(
                f"--out {out}: that is the transcript of interview {other} "
                f"({store.path(other)}); writing there would destroy it",
                hint="Choose another --out path.",
            )
    refuse_own_files(out)


OWN_SUFFIXES = (".json", ".sqlite", ".sqlite-wal", ".sqlite-shm", ".npz", ".lock")
"""What interviewer keeps in its folders: transcripts and review items, databases, caches."""


def refuse_own_files(out: Path) -> None:
    """Refuse an --out that is an existing file of interviewer's own (in its data folder or
    the configured transcripts folder: transcripts, the checkpoint database, review items):
    an export written over it would destroy it."""
    from interviewer.config import load_settings

    if not out.exists():
        return
    try:
        settings = load_settings()
    except InterviewerError:
        return  # a config that cannot be read names no folders to protect
    target = out.resolve()
    for folder in (settings.data_dir, settings.transcripts_dir):
        inside = target.is_relative_to(folder.resolve())
        if inside and target.suffix.lower() in OWN_SUFFIXES:  # (not a report exported there)
            raise InterviewerError(
                f"--out {out}: that is one of interviewer's own files (in {folder}); "
                "writing there would destroy it",
                hint="Choose another --out path.",
            )


# --- saving without losing the reviewer's work -------------------------------------------


def where_saved(store: Transcripts, interview_id: str) -> str:
    """The file (or, for the database, the store) a save of `interview_id` writes, for messages."""
    from interviewer.transcript.store import TranscriptStore

    return str(store.path(interview_id)) if isinstance(store, TranscriptStore) else store.label


def keep_unsaved(transcript: Transcript) -> Path | None:
    """`transcript` kept under the data folder's unsaved/; None when that fails too."""
    from interviewer.config import data_dir, load_settings
    from interviewer.transcript.unsaved import keep_unsaved as keep

    try:
        base = load_settings().data_dir
    except InterviewerError:
        base = data_dir()
    return keep(transcript, base)


def save_or_keep(
    store: Transcripts,
    transcript: Transcript,
    what: str,
    redo: list[str],
    change: Change,
) -> tuple[Transcript, str]:
    """Save the `what`: `change` applies it to the newest saved transcript (`Transcripts.
    update`), so that what others saved meanwhile is kept. When that fails, keep
    `transcript`, the copy it was made on, elsewhere, and raise an error that says where,
    and the command (`redo`) that applies the `what` again. Returns the transcript saved
    and where."""
    from interviewer.transcript.unsaved import why_not_saved

    try:
        saved, where = store.update(transcript.id, change)
        return saved, str(where)
    except Exception as exc:  # a file that cannot be written, a database that is gone
        where = where_saved(store, transcript.id)
        raise InterviewerError(
            f"cannot save the {what} to {where}: {why_not_saved(exc)}",
            hint=unsaved_hint(where, keep_unsaved(transcript), what, redo),
        ) from None


def unsaved_hint(where: str, kept: Path | None, what: str, redo: list[str]) -> str:
    """What to do with a `what` that could not be saved to `where` (and is `kept`)."""
    lines = [f"Nothing was changed in {where}."]
    if kept is not None:
        lines.append(f"The interview with your {what} is kept in {kept}.")
    lines.append(f"Once {where} can be written, apply it again: {shlex.join(redo)}")
    if kept is not None and where.endswith(".json"):
        lines.append(f"or copy the kept file over it: {shlex.join(['cp', str(kept), where])}")
    return "\n".join(lines)


def command(*args: str | Path | None, **options: str | Path | None) -> list[str]:
    """`interviewer review ARGS --OPTION VALUE ...`, leaving out the options not given."""
    line = ["interviewer", "review", *(str(a) for a in args if a is not None)]
    for name, value in options.items():
        if value is not None:
            line += [f"--{name.replace('_', '-')}", str(value)]
    return line


def load_transcript(target: str, folder: Path | None) -> Transcript:
    store, interview_id = locate(target, folder)
    return store.load(interview_id)


def offer_import(settings: Settings | None = None) -> None:
    """Once: say that ./transcripts holds interviews of the user's own not yet imported."""
    from interviewer.config import load_settings
    from interviewer.transcript.imports import offer

    try:
        hint = offer(settings or load_settings())
    except InterviewerError:
        return  # (a broken config is reported by the command itself)
    if hint:
        err_console.print(Text("note: ", style="bold yellow") + Text(hint))


def bank_of(path: Path | None, required: bool = False) -> Bank | None:
    """The bank for key point texts and rubrics; optional unless `required`."""
    from interviewer.bank.loader import load_bank
    from interviewer.config import load_settings

    try:
        return load_bank(load_settings(bank_dir=path).bank_dir)
    except InterviewerError:
        if required or path is not None:
            raise
        err_console.print("[yellow]warning:[/] the bank does not load; showing ids only")
        return None


@app.command("list")
@handles_errors
def list_(
    folder: DirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List saved interviews, newest first: id, date, status, score, topics.

    Example: interviewer review list --dir ./transcripts
    """
    from interviewer.transcript.review import summaries

    offer_import()
    folder = existing_folder(folder)
    where = where_of(folder)
    items = summaries(store_of(folder))
    if as_json:
        import json

        console.print_json(json.dumps([s.model_dump() for s in items], ensure_ascii=False))
        return
    if not items:
        console.print(f"No transcripts in {where}.", markup=False)
        return
    table = Table()
    table.add_column("id", no_wrap=True)  # whole, so that it can be copied
    table.add_column("started", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("questions", justify="right")
    table.add_column("topics")
    table.add_column("status")
    for s in items:
        if s.error:
            continue
        status = "done" if s.finished else "[yellow]unfinished[/]"
        if s.overrides:
            status += f", {s.overrides} override(s)"
        if s.regrades:
            status += ", regraded"
        table.add_row(
            s.id,
            s.created[:16].replace("T", " "),
            "" if s.overall is None else f"{s.overall:.1f}",
            str(s.turns),
            ", ".join(s.topics),
            status,
        )
    if any(not s.error for s in items):
        console.print(table)
    for s in items:
        if s.error:
            err_console.print(Text(f"warning: unreadable {s.id}: {s.error}", style="yellow"))


@app.command()
@handles_errors
def show(interview_id: IdOrPathArg, folder: DirOpt = None, bank_dir: BankOpt = None) -> None:
    """Show an interview: each question, each answer with its evidence highlighted, the
    verdict per key point, overrides and regrades.

    Example: interviewer review show 20250101-093000-ab12

    Example: interviewer review show transcripts/20261123-091153-1a34.json
    """
    transcript = load_transcript(interview_id, folder)
    bank = bank_of(bank_dir)
    render(transcript, bank)


def render(t: Transcript, bank: Bank | None) -> None:
    from interviewer.transcript.review import overall
    from interviewer.transcript.view import turn_view

    s = t.settings
    console.print(Text(f"Interview {t.id}", style="bold"))
    console.print(
        f"started {t.created}, {'finished' if t.finished else 'unfinished'}; "
        f"{s.lang}, {s.mode}, persona {s.persona}, judge {s.judge}",
        markup=False,
        style="dim",
    )
    score = overall(t, bank)
    if score is not None:
        console.print(f"Overall: {score:.1f}/100", style="bold")
    for i, turn in enumerate(t.turns, start=1):
        render_turn(turn_view(i, turn, s.lang, bank))
    if t.current:
        current = turn_view(len(t.turns) + 1, t.current, s.lang, bank)
        console.rule(Text(f"In progress: {current.question_id}"))
        for a in current.attempts:
            render_attempt(a)
    if t.draft:
        console.print(Text("Unsent draft:", style="bold"))
        console.print(Text(t.draft), style="italic")


def marked(mark: Mark) -> Text:
    return Text(f"{mark.glyph} {mark}", style=mark.colour)


def render_turn(turn: TurnView) -> None:
    from interviewer.transcript.marks import Mark

    head = f"{turn.number}. {turn.question_id} ({turn.topic}, difficulty {turn.difficulty})"
    head += f" {turn.score:.1f}/100"
    if turn.score != turn.live_score:
        head += f" (live {turn.live_score:.1f})"
    if turn.skipped:
        head += " skipped"
    console.rule(Text(head, style="bold"))
    if turn.asked:
        console.print(Text(turn.asked, style="cyan"))
    for a in turn.attempts:
        render_attempt(a)
    table = Table("key point", turn.judge, "reviewer", "evidence", show_lines=False)
    for row in turn.rows:
        name = Text(row.key_point, style="bold")
        if row.statement:
            name.append("\n" + row.statement, style="dim")
        cell = Text("")
        if row.reviewer:
            cell = marked(row.reviewer)
            if row.note:
                cell.append(f"\n{row.note}", style="dim")
        table.add_row(
            name, marked(row.judge), cell, Text(row.evidence.quote if row.evidence else "")
        )
    console.print(table)
    missed = [row.key_point for row in turn.rows if row.mark != Mark.COVERED]
    if turn.hinted:
        console.print(f"hints shown for: {', '.join(turn.hinted)}", markup=False, style="dim")
    for m in turn.misconceptions:
        console.print(Text(f"misconception {m.id} (-{m.penalty:g}): {m.evidence}", style="red"))
    for o in turn.overrides:
        line = f"override {o.key_point} → {o.verdict} at {o.at}" + (f": {o.note}" if o.note else "")
        console.print(Text(line, style="magenta"))
    for r in turn.regrades:
        console.print(
            Text(f"regrade by {r.judge} at {r.at}: {r.old_score:.1f} → {r.new_score:.1f}"),
            style="blue",
        )
    if missed:
        console.print(f"not covered: {', '.join(missed)}", markup=False, style="dim")


def render_attempt(a: AttemptView) -> None:
    title = "Answer" if a.probes is None else f"Follow-up on {a.probes}"
    console.print(Text(f"\n{title} ({a.at}, {a.score:.1f} by {a.judge})", "bold"))
    if a.probes is not None:
        console.print(Text(a.prompt, style="cyan"))
    text = Text()
    for run in a.runs:
        if not run.cites:
            text.append(run.text)
            continue
        strongest = run.strongest
        style = "white on red" if run.misconception else HIGHLIGHT.get(strongest or "", "reverse")
        text.append(run.text, style=style)
        text.append(f" [{'; '.join(run.labels)}]", style="dim")
    console.print(text)
    for m in a.missing:
        console.print(Text(f"(quote not found in the answer: {m.cite.label}: {m.quote})", "red"))
    if a.flags:
        console.print(f"flags: {', '.join(a.flags)}", markup=False, style="yellow")


@app.command()
@handles_errors
def export(
    interview_id: IdOrPathArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html or json.")] = "md",
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout).")] = None,
    folder: DirOpt = None,
    bank_dir: BankOpt = None,
) -> None:
    """Export an interview as Markdown, a self-contained HTML page, or JSON.

    Example: interviewer review export 20250101-093000-ab12 --format html --out review.html
    """
    from interviewer.transcript.export import export as render_export

    if fmt not in ("md", "html", "json"):
        raise InterviewerError(f"--format must be md, html or json, not {fmt!r}")
    store, interview_id = locate(interview_id, folder)
    if out is not None:
        refuse_overwrite(out, store, interview_id)
    transcript = store.load(interview_id)
    bank = bank_of(bank_dir) if fmt != "json" else None
    text = render_export(transcript, fmt, bank)  # type: ignore[arg-type]
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        atomic_write(out, text)  # 0600: an export holds the answers
    except OSError as exc:
        raise InterviewerError(f"cannot write {out}: {exc.strerror}") from None
    console.print(f"wrote {out}", markup=False)


@app.command()
@handles_errors
def regrade(
    interview_id: IdOrPathArg,
    judge: Annotated[
        str, typer.Option(help="offline, openai:MODEL, anthropic:MODEL, compatible:MODEL")
    ],
    base_url: Annotated[str | None, typer.Option(help="Base URL for compatible:MODEL.")] = None,
    api_key_env: ApiKeyEnvOpt = None,
    folder: DirOpt = None,
    bank_dir: BankOpt = None,
) -> None:
    """Grade every answer again with another judge; the old grades are kept.

    Prints each question's score before and after, and the verdicts that changed.

    Example: interviewer review regrade 20250101-093000-ab12 --judge openai:gpt-4o-mini
    """
    from interviewer.config import load_settings
    from interviewer.judge import make_judge
    from interviewer.judge.llm import LLMJudge
    from interviewer.transcript.review import carry_regrades
    from interviewer.transcript.review import regrade as run_regrade

    redo = command(
        "regrade",
        interview_id,
        judge=judge,
        base_url=base_url,
        api_key_env=api_key_env,
        dir=folder,
        bank=bank_dir,
    )
    store, interview_id = locate(interview_id, folder)
    transcript = store.load(interview_id)
    if not transcript.turns:
        raise InterviewerError(f"interview {interview_id!r} has no finished questions to regrade")
    settings = load_settings(openai_base_url=base_url, api_key_env=api_key_env, bank_dir=bank_dir)
    bank = bank_of(bank_dir, required=True)
    assert bank is not None
    grader = make_judge(judge, settings)
    if isinstance(grader, LLMJudge):
        grader.check()  # a wrong key or model: an error now, not every answer graded offline
    try:
        with console.status(f"regrading with {grader.spec}"):
            result = run_regrade(transcript, grader, bank)
    finally:
        if isinstance(grader, LLMJudge):
            grader.close()
    graded = transcript
    _, saved = save_or_keep(
        store, transcript, "regrade", redo, lambda latest: carry_regrades(graded, latest)
    )
    table = Table("turn", "question", "before", "after", "change", "verdicts changed")
    for r in result.turns:
        delta = Text(f"{r.delta:+.1f}", style="green" if r.delta > 0 else "red" if r.delta else "")
        changes = "\n".join(f"{c.key_point}: {c.old} → {c.new}" for c in r.changed)
        table.add_row(
            str(r.turn), r.question_id, f"{r.old_score:.1f}", f"{r.new_score:.1f}", delta, changes
        )
    console.print(table)
    console.print(f"regraded by {result.judge}; saved {saved}", markup=False)


@app.command()
@handles_errors
def override(
    interview_id: IdOrPathArg,
    turn: Annotated[int, typer.Option(help="Question number, from 1 (as `review show`).")],
    key_point: Annotated[str, typer.Option("--key-point", help="A key point id of that turn.")],
    verdict: Annotated[str, typer.Option(help="covered, partial or missed.")],
    note: Annotated[str, typer.Option(help="Why: kept with the override.")] = "",
    folder: DirOpt = None,
    bank_dir: BankOpt = None,
) -> None:
    """Override the judge's verdict on one key point as a human reviewer.

    The override is saved in the transcript with the time and your note; scores are
    recomputed from it. The newest override of a key point wins.

    Example: interviewer review override 20250101-093000-ab12 --turn 2
    --key-point merge-no-latency --verdict covered --note "said it in the follow-up"
    """
    from interviewer.transcript.review import (
        apply_override,
        base_grade,
        get_turn,
        overridden,
        turn_score,
    )

    redo = command(
        "override",
        interview_id,
        turn=str(turn),
        key_point=key_point,
        verdict=verdict,
        note=note or None,
        dir=folder,
    )
    store, interview_id = locate(interview_id, folder)
    transcript = store.load(interview_id)
    apply_override(transcript, turn, key_point, verdict, note)  # checked before the lock
    change = overridden(turn, key_point, verdict, note)
    saved, _ = save_or_keep(store, transcript, "override", redo, change)
    bank = bank_of(bank_dir)
    changed = get_turn(saved, turn)
    console.print(
        f"turn {turn} ({changed.question_id}): {key_point} → {verdict}; "
        f"score {turn_score(changed, bank):.1f} (judges: {base_grade(changed).score:.1f})",
        markup=False,
    )


@app.command("import")
@handles_errors
def import_(
    source: Annotated[
        Path, typer.Argument(help="A folder of transcripts, such as an old ./transcripts.")
    ],
    folder: DirOpt = None,
) -> None:
    """Copy the interviews in a folder into your data folder, or the database when
    database_url is set (or into --dir), skipping those already there, so that `review`,
    `stats` and `--resume` see them. The folder is left as it is.

    Example: interviewer review import ./transcripts
    """
    from interviewer.transcript.imports import import_folder

    dest = where_of(folder)
    done = import_folder(source, store_of(folder))
    console.print(
        f"imported {len(done.copied)} interview(s) into {dest}; {len(done.present)} already there",
        markup=False,
    )
    for interview_id in done.differ:
        err_console.print(
            Text(
                f"warning: {interview_id}: a different version is already in {dest}; "
                f"kept that one (compare {source / interview_id}.json)",
                style="yellow",
            )
        )
    for problem in done.unreadable:
        err_console.print(Text(f"warning: skipped {problem}", style="yellow"))
    if done.unreadable:
        raise typer.Exit(1)
