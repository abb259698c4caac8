"""`POST /v1/actions` without the framework's per-request machinery.

It is the route a metaverse calls for every resident action, so its cost per request sets how many
actions a small server takes in. Measured in process (docs/benchmarks.md), FastAPI's middleware,
routing, dependency solving, body model and response model cost about as much CPU as verifying the
signature and storing the action. This ASGI middleware serves a well-formed submission itself: the
same verification and the same durable accept as `api.routes.actions.submit`, and the same 202 body.

Everything else goes to the FastAPI app unchanged, with the body replayed: other routes, a body that
is not a JSON object with an object `typedData` and a string `signature`, and every action that is
refused. So each error is formatted in one place, by the route, which also stays the documented one
(OpenAPI). Replaying a refusal is safe: a refused action changes nothing, and accepting is
idempotent by digest.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.errors import ActionError, ChainError

from .routes.actions import verify_async
from .schemas import SubmitRequest

_PATH = "/v1/actions"
_HEADERS = [(b"content-type", b"application/json")]


class SubmitFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == _PATH
            and _is_json(scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body arrived
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        answer = await self._serve(scope, body)
        if answer is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [*_HEADERS, (b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    @staticmethod
    async def _serve(scope: Scope, body: bytes) -> bytes | None:
        """The 202 body, or None when the route should answer (malformed or refused)."""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not (
            isinstance(data, dict)
            and isinstance(data.get("typedData"), dict)
            and isinstance(data.get("signature"), str)
        ):
            return None
        services = scope["app"].state.services
        request = SubmitRequest.model_construct(typedData=data["typedData"], signature=data["signature"])
        try:
            action = await verify_async(services, request, int(time.time()))
        except (ActionError, ChainError):
            return None  # the route refuses it again, as problem details (api/errors.py)
        stored = (await services.accept_queue.accept_async([action]))[0]
        if isinstance(stored, ActionError):
            return None
        return orjson.dumps({"id": stored.id, "status": stored.status})


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: the client's disconnect, as the app expects
        sent = True
        message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}
        return message

    return replay
