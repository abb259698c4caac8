"""A fault-injecting JSON-RPC proxy in front of a real node, for tests.

Rules match a JSON-RPC method and say what happens to the next calls of it: answer an error
without forwarding, answer a given result, forward and then withhold the answer (a timeout: the
node did act), hold the request until released (to kill a client at a precise step), or fail at
the HTTP level. Batches are forwarded whole; rules apply to single calls, which is how the relayer
broadcasts, except "error" rules with a `match`, which answer the matching calls inside a batch too
(a node that refuses one request of a batch).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Fault:
    kind: str  # "error" | "result" | "timeout" | "hold" | "forward-hold" | "http500" | "forward-then-error"
    message: str = ""
    code: int = -32000
    match: str | None = None  # only calls whose params contain this text (e.g. a raw transaction)
    result: Any = None  # what a "result" rule answers


@dataclass
class Proxy:
    upstream: str
    faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    held: list[dict[str, Any]] = field(default_factory=list)
    timeout_seconds: float = 3.0
    blocked: set[str] = field(default_factory=set)  # methods answered -32601 (not supported)

    def __post_init__(self) -> None:
        self._release = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                status, reply = proxy._handle(body)
                payload = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (its timeout): exactly what a timeout fault wants

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, method: str, *faults: Fault) -> None:
        with self._lock:
            self.faults[method].extend(faults)

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _forward(self, body: Any) -> Any:
        return httpx.post(self.upstream, json=body, timeout=30).json()  # one client per call: threads

    def _handle(self, body: Any) -> tuple[int, Any]:
        if isinstance(body, list):
            with self._lock:
                fault = self.faults["batch"].popleft() if self.faults["batch"] else None
            if fault is not None:
                return 500, {"error": "upstream trouble"}
            out = []
            for call in body:
                if call["method"] in self.blocked:
                    out.append(_error(call, -32601, "Method not found"))
                elif (targeted := self._targeted(call)) is not None:
                    out.append(_error(call, targeted.code, targeted.message))
                else:
                    out.append(None)
            forward = [c for c, o in zip(body, out, strict=True) if o is None]
            replies = {r["id"]: r for r in (self._forward(forward) if forward else [])}
            return 200, [o if o is not None else replies[c["id"]] for c, o in zip(body, out, strict=True)]
        method = body["method"]
        params = json.dumps(body.get("params", []))
        with self._lock:
            self.calls[method] += 1
            fault = next((f for f in self.faults[method] if f.match is None or f.match in params), None)
            if fault is not None:
                self.faults[method].remove(fault)
        if method in self.blocked:
            return 200, _error(body, -32601, "Method not found")
        if fault is None:
            return 200, self._forward(body)
        if fault.kind == "error":
            return 200, _error(body, fault.code, fault.message)
        if fault.kind == "result":
            return 200, {"jsonrpc": "2.0", "id": body.get("id"), "result": fault.result}
        if fault.kind == "http500":
            return 500, {"error": "upstream trouble"}
        if fault.kind == "forward-then-error":
            self._forward(body)
            return 200, _error(body, fault.code, fault.message)
        if fault.kind == "timeout":
            reply = self._forward(body)
            time.sleep(self.timeout_seconds)  # the client has given up by now
            return 200, reply
        if fault.kind in ("hold", "forward-hold"):
            reply = self._forward(body) if fault.kind == "forward-hold" else None
            with self._lock:
                self.held.append(body)
            self._release.wait()
            return 200, reply or _error(body, -32000, "released without forwarding")
        raise AssertionError(f"unknown fault {fault.kind}")

    def _targeted(self, call: dict[str, Any]) -> Fault | None:
        """The next "error" rule with a `match` for this call of a batch, consumed."""
        params = json.dumps(call.get("params", []))
        with self._lock:
            queue = self.faults[call["method"]]
            fault = next(
                (f for f in queue if f.kind == "error" and f.match is not None and f.match in params), None
            )
            if fault is not None:
                queue.remove(fault)
                self.calls[call["method"]] += 1
        return fault


def _error(call: dict[str, Any], code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call.get("id"), "error": {"code": code, "message": message}}
