"""Every process's log lines: JSON or text, the request id on each, configured secrets scrubbed."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import secrets
from collections.abc import Iterator

import pytest
from asgi_correlation_id.context import correlation_id

from ledger.logs import logging_config, redact, well_formed_request_id
from ledger.settings import Settings, get_settings

TOKEN = "tok_" + secrets.token_hex(20)
NODE = "https://node.example/v2/" + secrets.token_hex(16)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    monkeypatch.setenv("ESG_ENV", "test")
    monkeypatch.setenv("ESG_PLATFORM_TOKENS", json.dumps([TOKEN]))
    monkeypatch.setenv("ESG_RPC_URL", NODE)
    monkeypatch.setenv("ESG_LOG_FORMAT", "json")
    get_settings.cache_clear()
    stream = io.StringIO()
    config = logging_config(get_settings())
    config["handlers"]["stderr"]["stream"] = stream
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        root.handlers, _ = saved
        root.setLevel(saved[1])
        get_settings.cache_clear()


def test_json_lines_carry_the_request_id_and_never_a_configured_secret(captured: io.StringIO) -> None:
    log = logging.getLogger("esg.test")
    reset = correlation_id.set("req-1")
    try:
        log.info("platform token %s from %s", TOKEN, NODE)
        log.warning("login with password=hunter22 and Authorization: Bearer abc.def")
    finally:
        correlation_id.reset(reset)
    try:
        raise RuntimeError(f"failed with {TOKEN}")
    except RuntimeError:
        log.exception("outside a request")
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["req-1", "req-1", None]
    text = captured.getvalue()
    assert TOKEN not in text and NODE not in text and "hunter22" not in text and "abc.def" not in text
    assert "[redacted]" in lines[0]["message"] and "node.example" not in lines[0]["message"]
    assert "RuntimeError" in lines[2]["exc_info"]  # the traceback stays, scrubbed


def test_redaction_shapes() -> None:
    assert redact('{"password": "p4ss"}', []) == '{"password": "[redacted]"}'
    assert redact("token=abc&next=1", []) == "token=[redacted]&next=1"
    assert redact("reward of 5 tokens", []) == "reward of 5 tokens"


def test_text_format_outside_production_by_default() -> None:
    assert Settings(env="development", _env_file=None).logs_as_json is False  # type: ignore[call-arg]
    assert (
        Settings(
            env="production", database_url="postgresql://x/y", relayer_keys=["0x" + "5a" * 32], _env_file=None
        ).logs_as_json
        is True
    )  # type: ignore[arg-type]


def test_request_ids_must_be_well_formed() -> None:
    assert well_formed_request_id("3f2b0c1e-aaaa-4bbb-8ccc-123456789abc")
    assert well_formed_request_id("trace.42:a_b-c")
    for bad in ("", "has space", "x" * 129, "new\nline", 'quote"', "<script>"):
        assert not well_formed_request_id(bad), bad
