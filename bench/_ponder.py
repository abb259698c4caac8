"""Runs Ponder 0.16.10 (bench/ponder) cold against a node, for `esg-ledger bench indexer`.

Cold: a new PGlite directory, `disableCache` on the chain (no RPC cache from an earlier run), a fresh
schema. Caught up: `/ready` answers 200 and `/status` reports the chain's block at the head.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from ledger.deploy import Deployment
from ledger.settings import PROJECT_ROOT

PONDER_DIR = PROJECT_ROOT / "bench" / "ponder"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def install() -> Path:
    """Installs bench/ponder's locked npm dependencies when they are missing; returns the ponder CLI."""
    cli = PONDER_DIR / "node_modules" / ".bin" / "ponder"
    if not cli.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PONDER_DIR, check=True
        )
    return cli


def run(deployment: Deployment, rpc_url: str, head: int, timeout: float = 3600) -> float:
    """Seconds from starting Ponder until it has indexed to `head` and says it is ready."""
    cli = install()
    generated = PONDER_DIR / "generated"
    generated.mkdir(exist_ok=True)
    (generated / "deployment.json").write_text(json.dumps(deployment.public()))
    port = _free_port()
    with (
        tempfile.TemporaryDirectory(prefix="ponder-pglite-") as pglite,
        open(generated / "ponder.log", "w") as out,
    ):
        env = {
            **os.environ,
            "PONDER_TELEMETRY_DISABLED": "true",
            "PONDER_RPC_URL": rpc_url,
            "PONDER_PGLITE_DIR": pglite,
        }
        started = time.monotonic()
        process = subprocess.Popen(
            [
                str(cli),
                "start",
                "--schema",
                f"bench_{os.getpid()}_{int(time.time())}",
                "--log-format",
                "json",
                "--port",
                str(port),
            ],
            cwd=PONDER_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"ponder exited with {process.returncode}; see {generated / 'ponder.log'}"
                    )
                if time.monotonic() - started > timeout:
                    raise TimeoutError("ponder did not catch up in time")
                try:
                    ready = httpx.get(f"{base}/ready", timeout=2).status_code == 200
                    status = httpx.get(f"{base}/status", timeout=2).json() if ready else {}
                except (httpx.HTTPError, ValueError):
                    ready, status = False, {}
                blocks = [int((c.get("block") or {}).get("number") or 0) for c in status.values()]
                if ready and blocks and min(blocks) >= head:
                    return time.monotonic() - started
                time.sleep(0.2)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
