"""A fault-injecting JSON-RPC proxy in front of a real node, for tests.

Every call (batched or not) passes through `decide(method, params)`, which may forward it, answer
with an error, stall past the client's timeout, or answer with something else (a lagging node).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Forward:
    pass


@dataclass
class Error:
    code: int
    message: str
    data: Any = None


@dataclass
class Stall:
    seconds: float


@dataclass
class Answer:
    result: Any


@dataclass
class HttpFailure:
    status: int


Decision = Forward | Error | Stall | Answer | HttpFailure
Decide = Callable[[str, list[Any]], Decision]


class FaultProxy:
    def __init__(self, upstream: str, decide: Decide) -> None:
        self.upstream = upstream
        self.decide = decide
        self.calls: dict[str, int] = {}
        self.faults: dict[str, int] = {}
        self._client = httpx.Client(timeout=30)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                requests = body if isinstance(body, list) else [body]
                replies = []
                for request in requests:
                    reply = proxy._handle(request)
                    if isinstance(reply, HttpFailure):
                        self.send_response(reply.status)
                        self.end_headers()
                        return
                    replies.append(reply)
                payload = json.dumps(replies if isinstance(body, list) else replies[0]).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handle(self, request: dict[str, Any]) -> dict[str, Any] | HttpFailure:
        method, params = request["method"], request.get("params", [])
        with self._lock:
            self.calls[method] = self.calls.get(method, 0) + 1
        decision = self.decide(method, params)
        if not isinstance(decision, Forward):
            with self._lock:
                kind = type(decision).__name__
                self.faults[kind] = self.faults.get(kind, 0) + 1
        if isinstance(decision, HttpFailure):
            return decision
        if isinstance(decision, Stall):
            time.sleep(decision.seconds)
        elif isinstance(decision, Error):
            error = {"code": decision.code, "message": decision.message}
            if decision.data is not None:
                error["data"] = decision.data
            return {"jsonrpc": "2.0", "id": request.get("id"), "error": error}
        elif isinstance(decision, Answer):
            return {"jsonrpc": "2.0", "id": request.get("id"), "result": decision.result}
        reply: dict[str, Any] = self._client.post(self.upstream, json=request).json()
        return reply

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._client.close()
