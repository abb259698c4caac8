"""The embedded development chain: an anvil process (npm @foundry-rs/anvil) whose state persists on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

from .chain.rpc import HttpRpc
from .errors import ToolchainError
from .toolchain import anvil_binary

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the parent dies, so a killed server never leaves anvil behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class AnvilNode:
    """Starts anvil, waits until it answers, and stops it so that it dumps its state.

    `state_path` is loaded at start (if present) and written every `state_interval` seconds and on
    exit, so a restart resumes the same chain. `block_time=0` means automine (one block per tx).
    """

    def __init__(
        self,
        *,
        port: int,
        state_path: Path | None = None,
        block_time: float = 1.0,
        chain_id: int = 31337,
        state_interval: int = 5,
        log_path: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.port = port
        self.state_path = state_path
        self.block_time = block_time
        self.chain_id = chain_id
        self.state_interval = state_interval
        self.log_path = log_path
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            str(anvil_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
        ]
        if self.block_time > 0:
            cmd += ["--block-time", f"{self.block_time:g}"]
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--state", str(self.state_path), "--state-interval", str(self.state_interval)]
        return cmd + list(self.extra_args)

    def start(self, timeout: float = 30.0) -> AnvilNode:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        rpc = HttpRpc(self.url, timeout=2.0)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ToolchainError(
                        f"anvil exited with code {self.process.returncode}: {' '.join(self.command())}"
                    )
                try:
                    rpc.call("eth_chainId")
                    return self
                except Exception:
                    time.sleep(0.1)
        finally:
            rpc.close()
        self.stop()
        raise ToolchainError(f"anvil did not answer on port {self.port} within {timeout:.0f}s")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (anvil dumps its state), then SIGKILL if it does not exit in time."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def kill(self) -> None:
        """SIGKILL: no state dump, as in a crash."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> AnvilNode:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
