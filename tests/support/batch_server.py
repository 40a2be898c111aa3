"""A loopback server for the providers' batch APIs, driven by the official SDKs.

OpenAI: POST /v1/files (multipart upload), POST /v1/batches (its metadata kept), GET
/v1/batches/{id}, GET /v1/batches (the list, newest first, paged by `limit` and `after`),
GET /v1/files/{id}/content. Anthropic: POST /v1/messages/batches, GET
/v1/messages/batches/{id}, GET /v1/messages/batches (newest first, `limit` and
`after_id`), GET /v1/messages/batches/{id}/results. Both: the one-token preflight (POST
/v1/chat/completions, POST /v1/messages).

A job ends `duration` seconds after it is created; its counts rise with time meanwhile.
`fate(custom_id, answer)` decides each request: "ok" (the reply `reply(answer, key_point_ids)`
makes), "error" (the request errored), "malformed" (a reply that is not the schema's
JSON) or "expired". A job whose number is in `expire_jobs` expires half-way: the second
half of its requests get no reply. `faults` queues HTTP errors for routes ("GET
/v1/batches"; a list is "LIST /v1/batches", "LIST /v1/messages/batches"): each is
answered once, in order, before the route works again; `delays` makes a route wait
before it handles the request, `holds` after it (a batch is made, its id not sent yet:
the window a crash can fall in).
Every request id submitted is recorded in `submitted`, in order.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[str, list[str]], dict[str, Any]]
Fate = Callable[[str, str], str]
ANSWER = re.compile(r"<<<ANSWER (\w+)>>>\n(.*)\n<<<END ANSWER \1>>>", re.DOTALL)


def all_missed(answer: str, kp_ids: list[str]) -> dict[str, Any]:
    verdicts = {kp: {"verdict": "missed", "evidence": "", "reason": "absent"} for kp in kp_ids}
    return {"verdicts": verdicts, "misconceptions": []}


@dataclass
class FakeJob:
    id: str
    kind: str  # openai | anthropic
    number: int
    requests: list[dict[str, Any]]
    fates: list[str]
    created: float
    input_file_id: str = ""
    metadata: dict[str, str] | None = None

    def answered(self, now: float, duration: float, expires: bool) -> tuple[int, bool]:
        """(requests processed so far, ended)."""
        n = len(self.requests)
        frac = min(1.0, (now - self.created) / duration) if duration > 0 else 1.0
        if expires:
            return min(int(n * frac), n // 2), frac >= 1.0
        return int(n * frac), frac >= 1.0


@dataclass
class BatchState:
    duration: float = 0.5
    fate: Fate = lambda custom_id, answer: "ok"
    reply: Reply = all_missed
    expire_jobs: set[int] = field(default_factory=set)
    faults: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # route -> seconds before handling
    holds: dict[str, float] = field(default_factory=dict)  # route -> seconds before replying
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    submitted: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, route: str) -> int | None:
        with self.lock:
            queued = self.faults.get(route)
            return queued.pop(0) if queued else None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._route("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self._route("POST", self.rfile.read(length))

    def _route(self, method: str, raw: bytes) -> None:
        state = self.server.state
        path, _, query = self.path.partition("?")
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        route = f"{method} {re.sub(r'/(batch|msgbatch|file)_[^/]+', '', path)}"
        if method == "GET" and path in ("/v1/batches", "/v1/messages/batches"):
            route = f"LIST {path}"
        self.hold = state.holds.get(route, 0.0)
        with state.lock:
            state.calls.append(f"{method} {path}")
        if route in state.delays:
            time.sleep(state.delays[route])
        status = state.fault(route)
        if status is not None:
            self._json({"error": {"message": f"scripted {status}", "type": "server_error"}}, status)
            return
        try:
            self._dispatch(method, path, raw)
        except KeyError as exc:
            self._json({"error": {"message": f"not found: {exc}", "type": "not_found"}}, 404)

    def _dispatch(self, method: str, path: str, raw: bytes) -> None:
        state = self.server.state
        if (method, path) == ("POST", "/v1/chat/completions"):
            self._json(_chat("{}", 1))
        elif (method, path) == ("POST", "/v1/messages"):
            self._json(_message({}))
        elif (method, path) == ("POST", "/v1/files"):
            self._json(self._upload(raw))
        elif (method, path) == ("POST", "/v1/batches"):
            body = json.loads(raw)
            data = state.files[body["input_file_id"]].decode("utf-8")
            requests = [json.loads(line) for line in data.splitlines() if line.strip()]
            job = self._new_job("openai", requests, body["input_file_id"])
            job.metadata = body.get("metadata")
            self._json(self._openai_batch(job))
        elif (method, path) == ("GET", "/v1/batches"):
            page, more = self._page("openai", "after")
            self._json(self._listed([self._openai_batch(j) for j in page], more, object="list"))
        elif method == "GET" and (m := re.fullmatch(r"/v1/batches/([^/]+)", path)):
            self._json(self._openai_batch(state.jobs[m[1]]))
        elif method == "GET" and (m := re.fullmatch(r"/v1/files/([^/]+)/content", path)):
            self._raw(state.files[m[1]])
        elif (method, path) == ("POST", "/v1/messages/batches"):
            job = self._new_job("anthropic", json.loads(raw)["requests"])
            self._json(self._anthropic_batch(job))
        elif (method, path) == ("GET", "/v1/messages/batches"):
            page, more = self._page("anthropic", "after_id")
            self._json(self._listed([self._anthropic_batch(j) for j in page], more))
        elif method == "GET" and (m := re.fullmatch(r"/v1/messages/batches/([^/]+)", path)):
            self._json(self._anthropic_batch(state.jobs[m[1]]))
        elif method == "GET" and (m := re.fullmatch(r"/v1/messages/batches/([^/]+)/results", path)):
            self._raw(self._anthropic_results(state.jobs[m[1]]))
        else:
            raise KeyError(path)

    # --- jobs -------------------------------------------------------------------------

    def _page(self, kind: str, cursor: str) -> tuple[list[FakeJob], bool]:
        """One page of the jobs of `kind`, newest first, after the `cursor` id."""
        state = self.server.state
        with state.lock:
            jobs = [j for j in state.jobs.values() if j.kind == kind]
        jobs.sort(key=lambda j: (j.created, j.number), reverse=True)
        after = self.query.get(cursor)
        if after:
            jobs = jobs[[j.id for j in jobs].index(after) + 1 :]
        limit = int(self.query.get("limit", "20"))
        return jobs[:limit], len(jobs) > limit

    @staticmethod
    def _listed(data: list[dict[str, Any]], more: bool, **extra: str) -> dict[str, Any]:
        return {
            "data": data,
            "has_more": more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            **extra,
        }

    def _upload(self, raw: bytes) -> dict[str, Any]:
        head = f"content-type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=email_policy).parsebytes(head + raw)
        content = b""
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                content = part.get_payload(decode=True)  # type: ignore[assignment]
        state = self.server.state
        with state.lock:
            file_id = f"file_{len(state.files) + 1}"
            state.files[file_id] = content
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": "upload.jsonl",
            "purpose": "batch",
            "status": "processed",
        }

    def _new_job(self, kind: str, requests: list[dict[str, Any]], file_id: str = "") -> FakeJob:
        state = self.server.state
        fates = [state.fate(r["custom_id"], _answer(r, kind)) for r in requests]
        with state.lock:
            number = len(state.jobs) + 1
            prefix = "batch" if kind == "openai" else "msgbatch"
            job = FakeJob(
                f"{prefix}_{number:04d}", kind, number, requests, fates, time.time(), file_id
            )
            state.jobs[job.id] = job
            state.submitted.extend(r["custom_id"] for r in requests)
        return job

    def _progress(self, job: FakeJob) -> tuple[int, bool, int]:
        """(processed, ended, failed among the processed)."""
        state = self.server.state
        done, ended = job.answered(time.time(), state.duration, job.number in state.expire_jobs)
        failed = sum(1 for fate in job.fates[:done] if fate != "ok")
        return done, ended, failed

    def _reply_for(self, request: dict[str, Any], kind: str) -> dict[str, Any]:
        if kind == "openai":
            schema = request["body"]["response_format"]["json_schema"]["schema"]
        else:
            schema = request["params"]["tools"][0]["input_schema"]
        kp_ids = schema["properties"]["verdicts"]["required"]
        return self.server.state.reply(_answer(request, kind), kp_ids)

    def _openai_batch(self, job: FakeJob) -> dict[str, Any]:
        state = self.server.state
        done, ended, failed = self._progress(job)
        expired = job.number in state.expire_jobs
        status = "in_progress"
        out: dict[str, Any] = {}
        if ended:
            status = "expired" if expired else "completed"
            out = self._openai_files(job, done)
        return {
            "id": job.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": job.input_file_id,
            "completion_window": "24h",
            "created_at": int(job.created),
            "status": status,
            "metadata": job.metadata,
            "request_counts": {
                "total": len(job.requests),
                "completed": done - failed,
                "failed": failed + (len(job.requests) - done if ended else 0),
            },
            **out,
        }

    def _openai_files(self, job: FakeJob, done: int) -> dict[str, str]:
        state = self.server.state
        output, errors = [], []
        for i, request in enumerate(job.requests):
            key = request["custom_id"]
            fate = job.fates[i] if i < done else "expired"
            line: dict[str, Any] = {"id": f"req_{i}", "custom_id": key, "error": None}
            if fate == "ok":
                content = json.dumps(self._reply_for(request, "openai"), ensure_ascii=False)
                line["response"] = {"status_code": 200, "body": _chat(content, i)}
                output.append(line)
            elif fate == "malformed":
                line["response"] = {"status_code": 200, "body": _chat("{not json", i)}
                output.append(line)
            elif fate == "expired":
                line["response"] = None
                line["error"] = {"code": "batch_expired", "message": "not processed in time"}
                errors.append(line)
            else:
                error = {"message": "scripted failure", "type": "server_error"}
                line["response"] = {"status_code": 500, "body": {"error": error}}
                errors.append(line)
        ids = {}
        with state.lock:
            for name, lines in (("output_file_id", output), ("error_file_id", errors)):
                if lines:
                    file_id = f"file_{job.id}_{name[:3]}"
                    text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
                    state.files[file_id] = text.encode("utf-8")
                    ids[name] = file_id
        return ids

    def _anthropic_batch(self, job: FakeJob) -> dict[str, Any]:
        done, ended, _ = self._progress(job)
        counts = {"processing": len(job.requests), "succeeded": 0, "errored": 0}
        counts |= {"canceled": 0, "expired": 0}
        if ended:  # Anthropic gives the split only once the batch has ended
            counts["processing"] = 0
            for i, fate_now in enumerate(job.fates):
                fate = fate_now if i < done else "expired"
                bucket = {"ok": "succeeded", "malformed": "succeeded", "expired": "expired"}
                counts[bucket.get(fate, "errored")] += 1
        created = datetime.fromtimestamp(job.created, UTC)
        host, port = self.server.server_address[:2]
        return {
            "id": job.id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": counts,
            "created_at": created.isoformat(),
            "expires_at": created.isoformat(),
            "ended_at": datetime.now(UTC).isoformat() if ended else None,
            "results_url": (
                f"http://{host!s}:{port}/v1/messages/batches/{job.id}/results" if ended else None
            ),
        }

    def _anthropic_results(self, job: FakeJob) -> bytes:
        done, ended, _ = self._progress(job)
        assert ended, "results asked for before the batch ended"
        lines = []
        for i, request in enumerate(job.requests):
            key = request["custom_id"]
            fate = job.fates[i] if i < done else "expired"
            result: dict[str, Any]
            if fate == "ok":
                reply = self._reply_for(request, "anthropic")
                result = {"type": "succeeded", "message": _message(reply)}
            elif fate == "malformed":
                result = {"type": "succeeded", "message": _message(None)}
            elif fate == "expired":
                result = {"type": "expired"}
            else:
                error = {"type": "api_error", "message": "scripted failure"}
                result = {"type": "errored", "error": {"type": "error", "error": error}}
            lines.append(json.dumps({"custom_id": key, "result": result}, ensure_ascii=False))
        return ("\n".join(reversed(lines)) + "\n").encode("utf-8")  # not in request order

    # --- replies --------------------------------------------------------------------

    def _json(self, body: Any, status: int = 200) -> None:
        self._send(json.dumps(body, ensure_ascii=False).encode("utf-8"), status, "application/json")

    def _raw(self, data: bytes) -> None:
        self._send(data, 200, "application/octet-stream")

    def _send(self, data: bytes, status: int, ctype: str) -> None:
        if self.hold:
            time.sleep(self.hold)
        try:
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _answer(request: dict[str, Any], kind: str) -> str:
    """The candidate's answer inside a request (between the fence markers)."""
    if kind == "openai":
        user = request["body"]["messages"][1]["content"]
    else:
        user = request["params"]["messages"][0]["content"]
    found = ANSWER.search(user)
    return found[2] if found else ""


def _chat(content: str, i: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{i}",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
    }


def _message(tool_input: dict[str, Any] | None) -> dict[str, Any]:
    content: list[dict[str, Any]] = (
        [{"type": "tool_use", "id": "toolu_1", "name": "record_grade", "input": tool_input}]
        if tool_input is not None
        else [{"type": "text", "text": "I cannot grade this."}]
    )
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "scripted",
        "content": content,
        "stop_reason": "tool_use" if tool_input is not None else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 200, "output_tokens": 50, "cache_read_input_tokens": 150},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    state: BatchState


class BatchServer:
    """`with BatchServer(BatchState(...)) as srv:` serves on loopback until the block ends."""

    def __init__(self, state: BatchState | None = None) -> None:
        self.state = state or BatchState()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.state = self.state
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> BatchServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
