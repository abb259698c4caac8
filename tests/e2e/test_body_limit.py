"""A body over the limit gets 413 before anything parses it, declared or streamed; nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from tests.support import Server, error_of

LIMIT = 2 * 1024 * 1024  # the default ESG_MAX_BODY_BYTES


def test_declared_length_over_the_limit_is_refused(server: Server) -> None:
    with server.client() as client:
        before = client.get("/v1/stats").json()
        body = b'{"typedData": {}, "signature": "' + b"0" * LIMIT + b'"}'
        for path in ("/v1/actions", "/v1/actions/batch", "/v1/actions/prepare"):
            r = client.post(path, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 413, (path, r.text)
            assert error_of(r)["code"] == "payload_too_large"
        assert client.get("/v1/stats").json() == before


def test_streamed_body_over_the_limit_is_refused(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"kind": "plogging", "resident": "0x' + b"0" * 40 + b'", "payload": {"x": "'
        for _ in range(LIMIT // 65_536 + 2):
            yield b"a" * 65_536
        yield b'"}}'

    r = httpx.post(
        server.url + "/v1/actions/prepare", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413, r.text


def test_a_body_under_the_limit_is_parsed(server: Server) -> None:
    with server.client() as client:
        r = client.post(
            "/v1/actions", content=b"{" + b" " * 100_000 + b"}", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422
        assert error_of(r)["field"] == "typedData"
