"""How every process logs (the CLI, the jobs, uvicorn and its workers): `ESG_LOG_FORMAT` JSON lines
or text, the request id on every line written while serving a request, and no secrets.

The request id is the one the API's middleware set (asgi-correlation-id's context variable; api/logs.py).
Secrets are kept out twice: nothing logs headers, bodies or query strings (the access log names the
route and path only), and every formatted line is scrubbed of the configured secrets' values
(tokens, keys, the master key, the node URL's credentials) and of anything shaped like
`Bearer …`, `password=…`, `"token": "…"`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from asgi_correlation_id.context import correlation_id
from pythonjsonlogger.json import JsonFormatter

from .chain.rpc import display_url
from .settings import Settings, get_settings

__all__ = ["formatter", "logging_config", "redact", "well_formed_request_id"]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_REDACTED = "[redacted]"
_SHAPES = (
    re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"),
    # key = value, key: "value", and the same inside a JSON line's escaped message (\\").
    re.compile(
        r"(?i)(\b(?:password|passphrase|passwd|secret|token|api[_-]?key|authorization|private[_-]?key|"
        r"mnemonic|master[_-]?key|totp(?:_code)?)(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)[^\\\"'\s,;&}]+"
    ),
)


def well_formed_request_id(value: str) -> bool:
    return _REQUEST_ID.fullmatch(value) is not None


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = correlation_id.get()
        return True


def _secrets(settings: Settings) -> list[str]:
    values = [t.get_secret_value() for t in (*settings.platform_tokens, *settings.relayer_keys)]
    for one in (settings.custody_master_key, settings.metrics_token, settings.deployer_key):
        if one is not None:
            values.append(one.get_secret_value())
    values.append(settings.mnemonic.get_secret_value())
    if display_url(settings.rpc) != settings.rpc:
        values.append(settings.rpc)  # the node URL holds a key: only display_url may be shown
    values += [v.removeprefix("0x") for v in values if v.startswith("0x")]
    return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)


def redact(line: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in line:
            line = line.replace(secret, _REDACTED)
    for shape in _SHAPES:
        line = shape.sub(lambda m: m.group(1) + _REDACTED, line)
    return line


class _Redacting(logging.Formatter):
    secrets: list[str]  # set by `formatter`, from this process's settings

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), getattr(self, "secrets", []))


class _JsonLines(_Redacting, JsonFormatter):
    pass


def formatter(json: bool = True) -> logging.Formatter:
    """dictConfig factory (also in uvicorn's worker processes): this process's settings' secrets."""
    made: _Redacting
    if json:
        made = _JsonLines(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    else:
        made = _Redacting("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
    made.secrets = _secrets(get_settings())
    return made


def logging_config(settings: Settings, level: str | None = None) -> dict[str, Any]:
    """The `logging.config.dictConfig` of every process: the CLI's, uvicorn's and its workers'."""
    level = level or settings.log_level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "ledger.logs._RequestIdFilter"}},
        "formatters": {"main": {"()": "ledger.logs.formatter", "json": settings.logs_as_json}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            "httpx": {"level": "WARNING"},
            "apscheduler": {"level": "ERROR"},  # a missed interval is routine under load
            "esg.access": {"level": "INFO"},
        },
    }
