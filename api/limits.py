"""A request body over `max_body_bytes` gets 413 before any route, parser or model sees it: by its
Content-Length when it declares one, and by counting the bytes as they arrive when it does not."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import PROBLEM_MEDIA_TYPE, problem_bytes


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._refuse(scope, send)
                return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            # Over the limit, the client gets 413 now and the app sees the client leave: frameworks
            # turn an exception raised while reading a body into a 400 of their own.
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    if not started and not refused:
                        refused = True
                        await self._refuse(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; whatever the app answers to a vanished client is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = problem_bytes(
            413,
            "payload_too_large",
            f"the request body exceeds {self.max_bytes} bytes; send fewer actions per request",
            instance=scope.get("path"),
        )
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
