"""`interviewer serve`: the interview TUI in a real headless Chromium, served by the real
server on a free port; off loopback, nothing without the token."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from typer.testing import CliRunner

from interviewer.cli import app
from tests.conftest import REPO
from tests.support.served import Terminal, launch_chromium, serving

SCREENSHOT = REPO / "docs" / "browser.png"
ANSWER = "zero_grad clears the gradients, then forward, loss, backward and step."
ONE_QUESTION = ["--judge", "offline", "--topic", "coding", "--lang", "en", "--seed", "3"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("INTERVIEWER_")},
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "LANG": "C.UTF-8",
    }


def _page(browser_page: Page) -> Page:
    # The page asks Google for a web font; there is no network here, and none is needed.
    browser_page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    return browser_page


def test_an_interview_in_the_browser(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    data = tmp_path / "served-data"
    args = ["--data-dir", str(data), *ONE_QUESTION, "--questions", "2", "--follow-ups", "0"]
    with serving(args, _env(tmp_path)) as served, sync_playwright() as playwright:
        (url,) = served.urls
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), "loopback: no token"
        browser = launch_chromium(playwright)
        try:
            page = _page(browser.new_page(viewport={"width": 1000, "height": 640}))
            terminal = Terminal(page)
            page.goto(url)
            terminal.wait_for("Question 1/2", timeout=60)
            terminal.focus()
            page.keyboard.type(ANSWER)
            page.keyboard.press("Control+s")
            # No follow-ups: the grade and the next question come in one step.
            screen = terminal.wait_for("Question 2/2", timeout=90)
            shot = page.screenshot()
            # Stopping the server (SIGTERM to it alone) ends the interview it started.
            served.process.send_signal(signal.SIGTERM)
            assert served.process.wait(30) == 0
            assert _group_ends(served.process.pid, 2), "an interview process outlived the server"
            page.wait_for_selector("body.-closed", timeout=10_000)  # the page: "Session ended"
        finally:
            browser.close()
        log = served.log()
    (saved,) = (data / "transcripts").glob("*.json")  # in --data-dir, not the user's
    turn = json.loads(saved.read_text(encoding="utf-8"))["turns"][0]
    assert turn["attempts"][0]["answer"] == ANSWER, "the typed answer reached the interview"
    assert f"Score: {round(turn['score'])}/100" in screen, f"no grade on screen:\n{screen}"
    assert "✓" in screen and "✗" in screen, "the key-point marks are shown"
    assert "?token" not in log and "GET / 200" in log, "the access log shows paths only"
    assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
    (tmp_path / "browser.png").write_bytes(shot)
    if request.config.getoption("--snapshot-update"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.write_bytes(shot)  # the README's picture: `pytest --snapshot-update`


def _get(base: str, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


WS_HANDSHAKE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


def test_off_loopback_only_with_the_token(tmp_path: Path) -> None:
    args = ["--host", "0.0.0.0", "--data-dir", str(tmp_path / "d"), *ONE_QUESTION]
    with serving(args, _env(tmp_path)) as served:
        url = next(u for u in served.urls if u.startswith("http://127.0.0.1:"))
        base, token = url.split("/?token=")
        assert len(token) >= 32 and "printed only this once" in served.log()

        wrong = token[:-1] + ("y" if token.endswith("x") else "x")  # always one character off
        for path in ("/", "/static/js/textual.js", "/ws", f"/?token={wrong}"):
            response = _get(base, path)
            assert response.status == 403, f"{path}: {response.status}"
        page = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
        page.request("GET", "/")
        assert b"needs its token" in page.getresponse().read(), "the 403 says what to do"
        page.close()

        given = _get(base, f"/?token={token}")
        assert given.status == 302 and given.getheader("Location") == "/", "token out of the URL"
        cookie = given.getheader("Set-Cookie") or ""
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        jar = {"Cookie": cookie.split(";")[0]}
        assert _get(base, "/", jar).status == 200
        assert _get(base, "/static/js/textual.js", jar).status == 200
        foreign = {**jar, **WS_HANDSHAKE, "Origin": "http://evil.example"}
        assert _get(base, "/ws", foreign).status == 403, "another site's page cannot connect"

        with sync_playwright() as playwright:  # and a browser given the URL gets the interview
            browser = launch_chromium(playwright)
            try:
                page_ = _page(browser.new_page(viewport={"width": 1000, "height": 640}))
                terminal = Terminal(page_)
                page_.goto(url)
                assert page_.url == f"{base}/", "the token left the address bar"
                terminal.wait_for("Question 1/5", timeout=60)
            finally:
                browser.close()


def _group_ends(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--plain"], "--plain cannot be served"),
        (["--resume", "abc"], "--resume cannot be served"),
        (["--bogus"], "No such option: --bogus"),
        (["--judge", "gpt4"], "judge spec 'gpt4' is not one of"),
        (["--bank", "/nonexistent"], "no questions/ folder here"),
    ],
)
def test_refuses_at_once_what_every_browser_would_hit(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["serve", "--port", "0", *args])
    assert result.exit_code == 2
    assert says in result.output
