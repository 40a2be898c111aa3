"""`interviewer serve`: the interview TUI in a browser (textual-serve), one interview per
connection, each the same `interviewer interview` command with the options given here."""

from __future__ import annotations

import os
import shlex
import socket
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from typer.core import TyperGroup

from interviewer.cli.common import console, handles_errors
from interviewer.errors import ConfigError

# Interview options that make no sense for a page many people open.
REFUSED = {"plain": "--plain", "resume": "--resume"}


@handles_errors
def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. Any address but loopback (127.0.0.1, ::1, localhost) "
            "requires the token."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="INTERVIEWER_SERVE_TOKEN",
            help="The token browsers must bring (?token=... once, then a cookie). Default: "
            "a new random one when --host is not loopback, printed once; none on loopback.",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="The data folder every served interview uses: checkpoints, transcripts, "
            "set-up choices, grade cache (default: yours, as in the terminal).",
        ),
    ] = None,
    bank_dir: Annotated[
        Path | None, typer.Option("--bank", help="Question bank folder (default: built-in).")
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="The address browsers use when a proxy is in front (https://... gives wss://)."
        ),
    ] = None,
) -> None:
    """Serve the interview to browsers: each connection runs its own interview, the same
    TUI as in the terminal, in its own process.

    Any option of `interviewer interview` (but --plain and --resume) can follow and applies
    to every interview; with none, each browser starts at the set-up screen. All served
    interviews share one data folder: everyone with the address sees the same saved
    interviews, review and progress (there are no user accounts).

    Examples:

      interviewer serve                         # http://127.0.0.1:8000, your own data

      interviewer serve --lang en --judge offline --questions 3

      interviewer serve --host 0.0.0.0 --port 8080 --data-dir /srv/interviewer
    """
    from interviewer.bank.loader import load_bank
    from interviewer.config import load_settings
    from interviewer.tui.web import InterviewServer, is_loopback, new_token

    forwarded = list(ctx.args)
    given = _interview_options(forwarded)
    settings = load_settings(
        judge=given["judge"],
        interviewer=given["interviewer"],
        openai_base_url=given["base_url"],
        api_key_env=given["api_key_env"],
        transcripts_dir=given["transcripts"],
        bank_dir=bank_dir,
        data_dir=data_dir.expanduser().absolute() if data_dir else None,
    )
    # Checked once now, not in every browser: the bank loads, the judge has its key.
    load_bank(settings.bank_dir)
    if settings.judge != "offline" or settings.interviewer != "scripted":
        from interviewer.judge import check_model_spec

        check_model_spec(settings.judge, settings)
        check_model_spec(settings.interviewer, settings, what="interviewer")
    # The interview processes read these like any `interviewer` run.
    os.environ["INTERVIEWER_DATA_DIR"] = str(settings.data_dir)
    if settings.bank_dir is not None:
        os.environ["INTERVIEWER_BANK_DIR"] = str(Path(settings.bank_dir).absolute())

    if token is None and not is_loopback(host):
        token = new_token()
    command = shlex.join([sys.executable, "-m", "interviewer", "interview", *forwarded])
    server = InterviewServer(command, host=host, port=port, token=token, public_url=public_url)

    def ready(bound: int) -> None:
        console.print(f"interviewer: serving interviews on port {bound}", markup=False)
        for url in _urls(host, bound, public_url):
            console.print(f"  {url}/" + (f"?token={token}" if token else ""), markup=False)
        if token:
            console.print("  (the token is printed only this once)", style="dim")
        console.print(f"  data folder: {settings.data_dir}", markup=False)
        if forwarded:
            console.print(f"  every interview: {shlex.join(forwarded)}", markup=False)
        console.print("  Ctrl+C to stop", style="dim")

    server.run(ready)


def _interview_options(args: list[str]) -> dict[str, Any]:
    """Parse `args` as `interviewer interview` does, so that a typo fails here, once, with
    typer's usual message (not in every browser)."""
    from interviewer.cli.app import app as root

    group = cast(TyperGroup, typer.main.get_command(root))
    parsed = group.commands["interview"].make_context("interviewer interview", list(args))
    for name, flag in REFUSED.items():
        if parsed.params.get(name):
            raise ConfigError(
                f"{flag} cannot be served: every browser would share one terminal-less interview.",
                hint="Resume an interview from the set-up screen of the served page instead.",
            )
    return parsed.params


def _urls(host: str, port: int, public_url: str | None) -> list[str]:
    if public_url:
        return [public_url.rstrip("/")]
    if host in ("0.0.0.0", "::", ""):
        return [f"http://{socket.gethostname()}:{port}", f"http://127.0.0.1:{port}"]
    shown = f"[{host}]" if ":" in host else host
    return [f"http://{shown}:{port}"]
