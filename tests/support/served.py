"""Test helpers for `interviewer serve`: the real server in its own process group, and a
headless Chromium (Debian's, through Playwright) whose terminal is read back with pyte.

xterm.js draws on a canvas, so the page holds no text to query; the bytes the app sends
over the websocket are fed to pyte, a VT100 emulator, sized as the browser asked."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pyte
from playwright.sync_api import Browser, Page, Playwright, WebSocket

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
URL_LINE = re.compile(r"^\s+(http://\S+)$")


@dataclass
class Served:
    """A running `interviewer serve`: the URLs it printed and everything it wrote."""

    process: subprocess.Popen[str]
    urls: list[str]
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "".join(self.output)


@contextmanager
def serving(args: list[str], env: dict[str, str], timeout: float = 60) -> Iterator[Served]:
    """`interviewer serve ARGS` until it prints its URLs; killed with its interviews after."""
    process = subprocess.Popen(
        [sys.executable, "-m", "interviewer", "serve", "--port", "0", *args],
        cwd=REPO,
        env={**env, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the interviews it starts go with it
    )
    served = Served(process, urls=[])
    ready = threading.Event()

    def read() -> None:  # (keeps draining: the access log must never fill the pipe)
        assert process.stdout is not None
        for line in process.stdout:
            served.output.append(line)
            if match := URL_LINE.match(line):
                served.urls.append(match.group(1))
            elif served.urls:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        ready.wait(timeout)
        if not served.urls:
            raise AssertionError(
                f"`interviewer serve` printed no URL in {timeout} s "
                f"(exit code {process.poll()}):\n{served.log()}"
            )
        yield served
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the server, and the interviews it started
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        process.wait(10)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    process.wait(5)


def launch_chromium(playwright: Playwright) -> Browser:
    if not os.path.exists(CHROMIUM):
        raise AssertionError(
            f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)"
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class Terminal:
    """What the app has drawn in the page's terminal, as text."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.screen: pyte.Screen | None = None
        self.stream: pyte.ByteStream | None = None
        page.on("websocket", self._attach)

    def _attach(self, ws: WebSocket) -> None:
        query = parse_qs(urlsplit(ws.url).query)
        self.screen = pyte.Screen(int(query["width"][0]), int(query["height"][0]))
        self.stream = pyte.ByteStream(self.screen)
        ws.on("framereceived", self._received)
        ws.on("framesent", self._sent)

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes) and self.stream is not None:
            self.stream.feed(payload)  # (text frames are pongs and other control messages)

    def _sent(self, payload: str | bytes) -> None:
        if isinstance(payload, str) and payload.startswith('["resize"') and self.screen:
            size = json.loads(payload)[1]
            self.screen.resize(size["height"], size["width"])

    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen else ""

    def wait_for(self, text: str, timeout: float = 30) -> str:
        """Wait until `text` is on screen; Playwright delivers events while it waits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (screen := self.text()):
                return screen
            self.page.wait_for_timeout(100)
        raise AssertionError(f"{text!r} never appeared in the browser; it shows:\n{self.text()}")

    def focus(self) -> None:
        """Keys to the app, without a click (a click would move the app's focus)."""
        self.page.locator(".xterm-helper-textarea").focus()
