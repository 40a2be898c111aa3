"""The root command. With no sub-command, `interviewer` starts an interview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from interviewer import __version__
from interviewer.cli import bank, review
from interviewer.cli.common import ApiKeyEnvOpt, console, handles_errors
from interviewer.cli.eval import eval_command
from interviewer.cli.grade import grade_command
from interviewer.cli.serve import serve_command
from interviewer.cli.simulate import simulate_command
from interviewer.cli.stats import stats_command
from interviewer.config import config_file, load_settings

app = typer.Typer(
    name="interviewer",
    help=(
        "Mock interviews for LLM / ML engineer roles, graded against rubric key points.\n\n"
        "Runs offline by default (scripted interviewer, offline judge); set OPENAI_API_KEY, "
        "ANTHROPIC_API_KEY or an OpenAI-compatible base URL to use a model.\n\n"
        "Examples:\n\n"
        "  interviewer                      # the TUI: set-up screen, then the interview\n\n"
        "  interviewer bank list --topic lora\n\n"
        "  interviewer grade answers.jsonl --out results.jsonl\n\n"
        "  interviewer serve                # the same TUI in a browser, on 127.0.0.1:8000"
    ),
    invoke_without_command=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(bank.app, name="bank")
app.add_typer(review.app, name="review")
app.command("eval")(eval_command)
app.command("stats")(stats_command)
app.command("grade")(grade_command)
app.command("simulate")(simulate_command)
# Options after serve's own go to every served interview (`interviewer interview`'s).
app.command("serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    serve_command
)

config_app = typer.Typer(help="Show where settings come from and what is in effect.")
app.add_typer(config_app, name="config")


def _version(value: bool) -> None:
    if value:
        console.print(f"interviewer {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(interview)


RESUME_LIST = "?"
ROOT_OPTIONS = {"--version", "--help", "-h", "--install-completion", "--show-completion"}


@app.command()
@handles_errors
def interview(
    questions: Annotated[int | None, typer.Option(help="Questions to ask (default 5).")] = None,
    topic: Annotated[
        list[str] | None, typer.Option(help="Only this topic; repeat for several.")
    ] = None,
    difficulty: Annotated[int | None, typer.Option(min=1, max=3, help="Start at 1-3.")] = None,
    persona: Annotated[str | None, typer.Option(help="senior, mentor or bar-raiser.")] = None,
    lang: Annotated[str | None, typer.Option(help="zh or en.")] = None,
    mode: Annotated[str | None, typer.Option(help="practice (grades as you go) or exam.")] = None,
    judge: Annotated[str | None, typer.Option(help="offline, openai:M, anthropic:M...")] = None,
    interviewer: Annotated[str | None, typer.Option(help="scripted, or a model spec.")] = None,
    base_url: Annotated[str | None, typer.Option(help="Base URL for compatible:MODEL.")] = None,
    api_key_env: ApiKeyEnvOpt = None,
    seed: Annotated[int | None, typer.Option(help="Same seed, same questions.")] = None,
    follow_ups: Annotated[
        int | None, typer.Option(min=0, max=5, help="Follow-ups per question (default 2).")
    ] = None,
    focus_weak: Annotated[bool, typer.Option(help="Favour your weak topics.")] = False,
    due: Annotated[
        bool,
        typer.Option(
            "--due",
            help="Practise what is due: the questions whose missed key points are due for "
            "review, those points asked about first.",
        ),
    ] = False,
    resume: Annotated[
        str | None,
        typer.Option(help="Continue an unfinished interview; without an id, list them."),
    ] = None,
    plain: Annotated[
        bool, typer.Option(help="No TUI: stdin and stdout (also when they are not a terminal).")
    ] = False,
    transcripts: Annotated[
        Path | None,
        typer.Option(
            "--transcripts",
            help="Save (and --resume) interviews in this folder instead of transcripts/ in "
            "the data folder.",
        ),
    ] = None,
) -> None:
    """Run a mock interview (the default command).

    In plain mode an answer ends at a blank line; /hint, /skip, /repeat and /quit on a line
    of their own are commands; end of input ends the interview and prints the report.

    Example: interviewer interview --plain --topic lora --questions 3 --lang en
    """
    import sys

    from interviewer.config import load_settings
    from interviewer.interview.context import InterviewContext

    settings = load_settings(
        judge=judge,
        interviewer=interviewer,
        lang=lang,
        persona=persona,
        mode=mode,
        questions=questions,
        openai_base_url=base_url,
        api_key_env=api_key_env,
        transcripts_dir=transcripts,
    )
    if settings.judge != "offline" or settings.interviewer != "scripted":
        # The spec, key and URL are checked now, not after the first answer.
        from interviewer.judge import check_model_spec

        check_model_spec(settings.judge, settings)
        check_model_spec(settings.interviewer, settings, what="interviewer")
    from interviewer.cli.review import offer_import

    if resume == RESUME_LIST:
        offer_import(settings)
        from interviewer.interview.session import unfinished

        pending = unfinished(settings)
        if not pending:
            console.print("No unfinished interviews.")
            return
        console.print("Unfinished interviews (continue with --resume ID):")
        for t in pending:
            answered = len(t.turns)
            console.print(f"  {t.id}  {t.updated}  {answered} answered", markup=False)
        return
    # The options that shape an interview (None: not given).
    shaping: dict[str, object] = {
        "questions": questions,
        "topic": topic or None,
        "difficulty": difficulty,
        "persona": persona,
        "lang": lang,
        "mode": mode,
        "judge": judge,
        "seed": seed,
        "follow_ups": follow_ups,
    }
    if resume:
        _no_options_with_resume(**shaping, due=due or None, focus_weak=focus_weak or None)
    tui = not plain and _terminal()
    review: dict[str, list[str]] = {}
    if due and not resume:
        from interviewer.cli.due import due_plan

        review = due_plan(settings, topic or [])  # nothing due: says when, and exits
    # Any option that shapes the interview skips the set-up screen (DESIGN), which would
    # otherwise build the interview from its saved choices and drop the option.
    chosen = bool(review) or focus_weak or any(v is not None for v in shaping.values())
    ctx: InterviewContext | None = None
    if not resume and (chosen or not tui):
        focus: list[str] = []
        if focus_weak:
            from interviewer.transcript.history import weak_topics
            from interviewer.transcript.store import open_transcripts

            focus = weak_topics(open_transcripts(settings))
        ctx = InterviewContext(
            persona=settings.persona,
            lang=settings.lang,
            mode=settings.mode,
            questions=settings.questions,
            topics=topic or [],
            difficulty=difficulty,
            judge=settings.judge,
            interviewer=settings.interviewer,
            seed=seed if seed is not None else _random_seed(),
            focus=focus,
            follow_up_limit=2 if follow_ups is None else follow_ups,
            review=review,
        )
        if review:
            ctx.questions, ctx.topics = len(review), []
    if ctx is not None and not tui:
        from interviewer.interview.preflight import check_choices

        check_choices(settings, ctx)  # before the first question, not after the first answer
    if tui:
        # Options given: straight to the interview; none: the set-up screen.
        from interviewer.tui.app import InterviewerApp

        InterviewerApp(settings, ctx=ctx, resume=resume).run()
        offer_import(settings)  # (after the TUI, which would hide it)
        return
    # Imported here: the session imports LangGraph, which the TUI loads in the background.
    from interviewer.interview.plain import run_plain
    from interviewer.interview.session import Session

    offer_import(settings)
    session = Session.open(settings, ctx, resume=resume)
    try:
        if resume:
            from interviewer.interview.preflight import check_choices

            check_choices(settings, session.ctx)  # the judge it was saved with
        raise typer.Exit(run_plain(session, sys.stdin, sys.stdout, resumed=bool(resume)))
    finally:
        session.close()


def _no_options_with_resume(**given: object) -> None:
    """A resumed interview goes on as it was saved: an option that would shape it is an
    error, not silently ignored."""
    from interviewer.errors import ConfigError

    names = ["--" + name.replace("_", "-") for name, value in given.items() if value is not None]
    if names:
        raise ConfigError(
            f"--resume goes on with the interview as it was saved; {', '.join(names)} "
            "cannot change it",
            hint="Drop those options to resume, or leave out --resume to start a new "
            "interview with them.",
        )


def _terminal() -> bool:
    """A terminal on stdin and stdout, or a browser: `interviewer serve` (textual-serve) runs
    each interview on pipes with Textual's web driver named in TEXTUAL_DRIVER."""
    import os
    import sys

    if os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver"):
        return True
    return sys.stdin.isatty() and sys.stdout.isatty()


def _random_seed() -> int:
    import secrets

    return secrets.randbelow(1_000_000)


@config_app.command("show")
@handles_errors
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings, API keys masked.

    Example: INTERVIEWER_JUDGE=openai:gpt-4o-mini interviewer config show
    """
    settings = load_settings()
    data = settings.masked()
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    console.print(f"[dim]config file: {config_file()}[/]")
    for key, value in data.items():
        console.print(f"{key} = {value}", markup=False)


@config_app.command("path")
def config_path() -> None:
    """Print the config file's path.

    Example: $EDITOR "$(interviewer config path)"
    """
    console.print(str(config_file()), markup=False)


def main() -> None:
    import sys

    args = sys.argv[1:]
    # `interviewer --topic lora` means `interviewer interview --topic lora`.
    if args and args[0].startswith("-") and args[0] not in ROOT_OPTIONS:
        args.insert(0, "interview")
    # `interview --resume` takes an optional id; typer needs a value, so a bare one becomes
    # "?". (`grade --resume` is a flag.)
    for i, arg in enumerate(args):
        if args[0] != "interview":
            break
        if arg == "--resume" and (i + 1 == len(args) or args[i + 1].startswith("-")):
            args.insert(i + 1, RESUME_LIST)
            break
    app(args)
