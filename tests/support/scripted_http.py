"""A scripted HTTP server on loopback, for fault injection through the real SDKs.

Each request pops the next step of the script: a status, headers and a JSON body, a delay,
or a dropped connection. When the script runs out, the last step repeats. Every request is
recorded: method, path, JSON body and headers (lower-cased names).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Step:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False
    raw: bytes | None = None


@dataclass
class Scripted:
    steps: list[Step]
    requests: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self) -> Step:
        with self.lock:
            return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer({})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self._answer(json.loads(self.rfile.read(length) or b"{}"))

    def _answer(self, payload: Any) -> None:
        script = self.server.script
        with script.lock:
            script.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "body": payload,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }
            )
            script.times.append(time.monotonic())
        step = script.next_step()
        if step.delay:
            time.sleep(step.delay)
        if step.reset:
            linger = struct.pack("ii", 1, 0)  # close with RST: a connection reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.connection.close()
            return
        data = step.raw if step.raw is not None else json.dumps(step.body).encode()
        try:
            self.send_response(step.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in step.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _KeepAliveHandler(_Handler):
    """HTTP/1.1: the client keeps its connection open between requests, as real servers
    let it (and as a client bound to a closed event loop then trips over)."""

    protocol_version = "HTTP/1.1"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hung handler must not hold up the test
    script: Scripted


class ScriptedServer:
    def __init__(self, steps: list[Step], keep_alive: bool = False) -> None:
        self.script = Scripted(steps=list(steps))
        self.httpd = _Server(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _Handler)
        self.httpd.script = self.script
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def chat_reply(content: str, finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
    }


def messages_reply(tool_input: dict[str, Any], name: str = "record_grade") -> dict[str, Any]:
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "scripted",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": name, "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 200, "output_tokens": 50, "cache_read_input_tokens": 150},
    }
