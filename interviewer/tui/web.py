"""The TUI in a browser: textual-serve starts one `interviewer interview` process per
websocket (each connection is its own interview); a token guards every address but loopback.

browser ─GET /?token=T─▶ guard ─302, cookie─▶ GET / (page) ─ws /ws─▶ one app process
                           └─ no or wrong token: 403 and a page that says what to do

The token is compared in constant time; once given in the URL it moves to an HttpOnly,
SameSite=Strict cookie and out of the address bar. The websocket also refuses pages of
another origin, so a web site open in the same browser cannot start interviews.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse
from textual_serve.server import Server

from interviewer.errors import InterviewerError

TOKEN_PARAM = "token"
QUIT_SECONDS = 5  # when the server stops, for the open interviews to save and quit
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FORBIDDEN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>interviewer: token needed</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>403: this interviewer server needs its token</h1>
<p>{why}</p>
<p>Open the address that <code>interviewer serve</code> printed when it started (it ends
in <code>?token=…</code>), or ask whoever runs the server for it.</p>
</body></html>
"""


class ServeError(InterviewerError):
    """The server cannot start (the address is taken, the host is unknown...)."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost: treat it as reachable from outside


def new_token() -> str:
    return secrets.token_urlsafe(24)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """The access log without query strings, so that a token given in a URL is not logged."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.3fs",
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )


class InterviewServer(Server):
    """textual-serve's server with a token guard, page URLs taken from the request (so that
    a page loaded as http://HOST:PORT opens its websocket on the same HOST:PORT, whatever
    address the server is bound to), and a port of 0 meaning any free port."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        token: str | None,
        public_url: str | None = None,
    ) -> None:
        super().__init__(command, host=host, port=port, title="interviewer", public_url=public_url)
        self.token = token
        self.fixed_url = public_url.rstrip("/") if public_url else None
        self.cookie = f"interviewer-token-{port}"
        self.connections: set[asyncio.Task[object]] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    # --- the guard ---------------------------------------------------------------------------

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/ws" and not self._same_origin(request):
            return _forbidden("This page is not allowed to open an interview here.")
        if self.token is None:
            return await handler(request)
        given = request.query.get(TOKEN_PARAM)
        if given is not None:
            if not self._valid(given):
                return _forbidden("The token in this address is wrong.")
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return await handler(request)  # (a client that sends the token each time)
            # Into a cookie, and out of the address bar and the browser's history.
            clean = request.rel_url.without_query_params(TOKEN_PARAM)
            response = web.Response(status=302, headers={"Location": str(clean)})
            response.set_cookie(self.cookie, given, httponly=True, samesite="Strict", path="/")
            return response
        if self._valid(request.cookies.get(self.cookie, "")):
            return await handler(request)
        return _forbidden("This address was opened without the server's token.")

    def _valid(self, given: str) -> bool:
        assert self.token is not None
        return secrets.compare_digest(given.encode(), self.token.encode())

    def _same_origin(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser page (browsers always send Origin on websockets)
        allowed = {request.host}
        if self.fixed_url:
            allowed.add(urlsplit(self.fixed_url).netloc)
        return urlsplit(origin).netloc in allowed

    # --- the page ----------------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """textual-serve's page, its URLs on the host and port the browser used."""
        base = self.fixed_url or f"{request.scheme}://{request.host}"
        ws_base = "wss" + base[5:] if base.startswith("https") else "ws" + base[4:]
        try:
            font_size = int(request.query.get("fontsize", "16"))
        except ValueError:
            font_size = 16
        context: dict[str, Any] = {
            "font_size": font_size,
            "app_websocket_url": f"{ws_base}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    # --- connections -------------------------------------------------------------------------

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's: one interview process for this connection; tracked, to end it."""
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self.connections.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        """Stopping: every open interview is told to quit (it is saved, as on Ctrl+Q), and
        its tab shows "Session ended"; none is left running without the server."""
        for task in self.connections:
            task.cancel()  # (textual-serve then sends the process "quit" and waits for it)
        if self.connections:
            await asyncio.wait(self.connections, timeout=QUIT_SECONDS)

    # --- running -----------------------------------------------------------------------------

    def run(self, on_ready: Callable[[int], None]) -> None:
        """Serve until SIGINT or SIGTERM; `on_ready(port)` once the port is bound."""
        self.initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.INFO)
        asyncio.run(self._run(on_ready))

    async def _run(self, on_ready: Callable[[int], None]) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = web.AppRunner(
            await self._make_app(),
            access_log_class=PathOnlyAccessLogger,
            shutdown_timeout=QUIT_SECONDS,
        )
        await runner.setup()
        try:
            try:
                await web.TCPSite(runner, self.host, self.port).start()
            except OSError as exc:
                raise ServeError(
                    f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}",
                    hint="Choose another --port (0 picks a free one) or --host.",
                ) from None
            port = int(runner.addresses[0][1])
            if self.port == 0:
                self.cookie = f"interviewer-token-{port}"
            on_ready(port)
            await stop.wait()
        finally:
            await runner.cleanup()

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints its logo and the bind address here; `on_ready` says more.)"""


def _forbidden(why: str) -> web.Response:
    return web.Response(status=403, text=FORBIDDEN_PAGE.format(why=why), content_type="text/html")
