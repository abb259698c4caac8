"""Test helpers: free ports, a real server process, residents that sign, a throwaway PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from sqlalchemy import create_engine, text

from ledger.pgcluster import ThrowawayPostgres

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def error_of(response: httpx.Response) -> dict[str, Any]:
    """An error response's `code`, `field` and `message` (its `detail`).

    The API's errors are RFC 9457 problem details (`application/problem+json`) with the extension
    members `code` and `field`; tests read them through this one function, which also checks the
    media type and the members every problem has.
    """
    assert response.headers.get("content-type") == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == response.status_code and body["type"].endswith("/" + body["code"]), body
    return {"code": body.get("code"), "field": body.get("field"), "message": body.get("detail")}


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Server:
    """`python -m cli serve` as a real process on a free port, against a given node and database."""

    def __init__(self, *, rpc_url: str, data_dir: Path, database_url: str | None = None, **env: str) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "ESG_ENV": "test",
            "ESG_RPC_URL": rpc_url,
            "ESG_DATA_DIR": str(data_dir),
            "ESG_API_PORT": str(self.port),
            "ESG_BATCH_MAX_AGE": "0.05",
            "ESG_RELAYER_INTERVAL": "0.05",
            "ESG_INDEXER_INTERVAL": "0.1",
            **env,
        }
        if database_url:
            self.env["ESG_DATABASE_URL"] = database_url
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def start(self, timeout: float = 60) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--no-embedded-node"],
            env=self.env,
            cwd=ROOT,
            stdout=open(self.log, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )

        def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                return httpx.get(self.url + "/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_until(healthy, timeout, "the server to report healthy", interval=0.2)
        except AssertionError as exc:
            try:
                problems = httpx.get(self.url + "/healthz", timeout=2).text
            except httpx.HTTPError:
                problems = "(no answer)"
            self.stop(signal.SIGKILL)  # never leave a half-started server behind
            raise AssertionError(f"{exc}; /healthz: {problems}\n{self.log.read_text()[-3000:]}") from None
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Resident:
    """A resident with their own key, signing with eth-account as a wallet would."""

    def __init__(self, account: LocalAccount | None = None) -> None:
        self.account = account or Account.create()

    @property
    def address(self) -> str:
        return str(self.account.address)

    def sign(self, typed_data: dict[str, Any]) -> str:
        return str(
            Account.sign_message(
                encode_typed_data(full_message=typed_data), self.account.key
            ).signature.to_0x_hex()
        )


# A resident's sessions are recorded in the order they happened (each starts at or after the end of
# the one before: PloggingRegistrySessionOverlaps). Tests share residents across calls, so every
# default session starts after the previous one ended: 5-minute sessions from six days ago, a
# clock that reaches now only after ~1,700 sessions in one process.
_SESSION_SECONDS = 300
_next_start = int(time.time()) - 6 * 86_400


def next_session_start(duration: int = _SESSION_SECONDS) -> int:
    global _next_start
    start, _next_start = _next_start, _next_start + duration + 1
    return start


def plogging_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "distanceMeters": 600,
        "durationSeconds": _SESSION_SECONDS,
        "trashGrams": 850,
        "areaCode": 41117,
        "startedAt": next_session_start(),
        "evidenceHash": "0x" + os.urandom(32).hex(),
    }
    payload.update(overrides)
    return payload


class Postgres(ThrowawayPostgres):
    """A throwaway PostgreSQL cluster for tests (fsync off: a test's data need not survive a crash)."""

    def __init__(self) -> None:
        super().__init__(fsync=False)

    def database(self, prefix: str) -> str:
        """The URL of a new, empty database in this cluster. Tests that run a server each take one:
        every test chain has chain id 31337, so a mirror left by another test's chain would look
        like a fork deeper than the finality depth."""
        name = f"{prefix}_{os.urandom(6).hex()}"
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return self.url.rsplit("/", 1)[0] + "/" + name
