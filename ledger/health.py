"""The background jobs' health, kept where every API worker can read it without asking the node.

The jobs process (relayer, indexer) records each run's outcome in a `JobsMonitor`, which writes a
`HealthState` to a small JSON file (`Settings.health_path`, replaced atomically) whenever an outcome
changes and every `ESG_HEALTH_INTERVAL` seconds. `/healthz` and `/metrics` read that file
(`StateFile`, re-parsed only when it changed) and `assess` turns it into stable codes. Exceptions'
text never goes into the state: it stays in the log, where the job that raised it wrote it.

Codes (docs/operations.md "Health"), each "down" or "degraded":

    jobs_starting, jobs_stale          down      no state yet / the jobs stopped writing it
    job_starting, job_stalled          degraded  a job's first run is under way / it has not
                                                 finished a run for ESG_HEALTH_STALE_SECONDS
    node_unreachable, node_error,      down      the node did not answer / answered an error /
    chain_mismatch                               is another chain
    contracts_missing,                 down      the node has no code at our contracts / a relayer
    relayer_role_missing                         key lacks RELAYER_ROLE: nothing is sent
    reorg_too_deep, decode_error,      down      the indexer halted (a deep fork, an undecodable log)
    indexer_failed, relayer_failed               or failed for another reason
    node_behind, head_stalled          degraded  the node's head is below the mirror / not moving
    indexer_lagging                    degraded  the mirror is more than ESG_INDEXER_MAX_LAG behind
    relayer_balance_low,               degraded  a key holds less than ESG_RELAYER_MIN_BALANCE_ETH /
    fee_cap_reached, relayer_waiting             a fee is stuck at the cap / an outside cause waits
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

__all__ = ["Check", "Health", "HealthState", "JobRun", "JobsMonitor", "StateFile", "assess", "error_code"]

log = logging.getLogger(__name__)

Status = Literal["ok", "degraded", "down"]
_RANK: dict[Status, int] = {"ok": 0, "degraded": 1, "down": 2}

# An exception's class (or a base class) → its code; anything else is "<job>_failed".
_ERROR_CODES = {
    "ReorgTooDeepError": "reorg_too_deep",
    "DecodeError": "decode_error",
    "ChainMismatchError": "chain_mismatch",
    "RpcError": "node_error",
    "ChainError": "node_unreachable",
}
# A relayer alarm's key prefix → (code, status).
_ALARMS: dict[str, tuple[str, Status]] = {
    "deployment": ("contracts_missing", "down"),
    "roles": ("relayer_role_missing", "down"),
    "balance": ("relayer_balance_low", "degraded"),
    "stuck": ("fee_cap_reached", "degraded"),
    "waiting": ("relayer_waiting", "degraded"),
}
_CHAIN_CODES = frozenset({"node_unreachable", "node_error", "chain_mismatch"})


def error_code(job: str, exc: BaseException) -> str:
    """The stable code for a job's failure (its text goes to the log, never to a client)."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _ERROR_CODES:
            return _ERROR_CODES[cls.__name__]
    return f"{job}_failed"


@dataclass
class JobRun:
    last_run_at: float | None = None  # the end of the latest run, successful or not
    error: str | None = None  # the latest run's code, None if it succeeded


@dataclass
class HealthState:
    written_at: float
    started_at: float
    chain_id: int | None = None
    head: int | None = None
    head_changed_at: float | None = None
    indexed: int | None = None
    node_behind: bool = False
    last_sync_at: float | None = None
    reorgs: int = 0
    jobs: dict[str, JobRun] = field(default_factory=dict)
    alarms: list[str] = field(default_factory=list)  # relayer alarm keys ("balance:0x…"), no text
    balances: dict[str, int] = field(default_factory=dict)  # relayer key → wei, as last checked

    def to_json(self) -> bytes:
        data = asdict(self)
        data["balances"] = {k: str(v) for k, v in self.balances.items()}  # wei exceeds 64 bits
        return orjson.dumps(data)

    @classmethod
    def from_json(cls, raw: bytes) -> HealthState:
        data: dict[str, Any] = orjson.loads(raw)
        data["jobs"] = {name: JobRun(**run) for name, run in data.get("jobs", {}).items()}
        data["balances"] = {k: int(v) for k, v in data.get("balances", {}).items()}
        return cls(**data)


@dataclass(frozen=True)
class Check:
    status: Status
    code: str


@dataclass(frozen=True)
class Health:
    status: Status
    checks: dict[str, Check]


def assess(
    state: HealthState | None,
    *,
    now: float,
    database_ok: bool,
    stale_after: float,
    max_lag: int,
    head_stall_seconds: float = 0,
) -> Health:
    """Public health from the jobs' state and this process's database probe: codes only."""
    checks = {"database": Check("ok", "ok") if database_ok else Check("down", "database_unavailable")}
    if state is None:
        checks["jobs"] = Check("down", "jobs_starting")
        return _overall(checks)
    checks["jobs"] = Check("ok", "ok")
    if now - state.written_at > stale_after:
        checks["jobs"] = Check("down", "jobs_stale")
    chain_errors = [r.error for r in state.jobs.values() if r.error in _CHAIN_CODES]
    checks["chain"] = Check("down", chain_errors[0]) if chain_errors else Check("ok", "ok")
    if not chain_errors and state.node_behind:
        checks["chain"] = Check("degraded", "node_behind")
    elif (
        not chain_errors
        and head_stall_seconds
        and state.head_changed_at is not None
        and now - state.head_changed_at > head_stall_seconds
    ):
        checks["chain"] = Check("degraded", "head_stalled")
    for name in ("indexer", "relayer"):
        run = state.jobs.get(name)
        if run is None or run.last_run_at is None:
            # Its first run is under way (an indexer catching up can take a while); the node and
            # the deployment answered just before the jobs were scheduled.
            late = now - state.started_at > stale_after
            checks[name] = Check("degraded", "job_stalled" if late else "job_starting")
        elif run.error is not None:
            checks[name] = Check("down", run.error)
        elif now - run.last_run_at > stale_after:
            # The jobs process lives (its state is fresh) but this job has not finished a run: slow
            # or hung. Actions are still accepted; nothing is relayed or mirrored meanwhile.
            checks[name] = Check("degraded", "job_stalled")
        else:
            checks[name] = Check("ok", "ok")
    head, indexed = state.head, state.indexed
    if (
        checks["indexer"].status == "ok"
        and head is not None
        and indexed is not None
        and head - indexed > max_lag
    ):
        checks["indexer"] = Check("degraded", "indexer_lagging")
    if checks["relayer"].status == "ok":
        alarms = [_ALARMS[a.split(":", 1)[0]] for a in state.alarms if a.split(":", 1)[0] in _ALARMS]
        if alarms:
            code, status = max(alarms, key=lambda a: _RANK[a[1]])
            checks["relayer"] = Check(status, code)
    return _overall(checks)


def _overall(checks: dict[str, Check]) -> Health:
    worst = max((c.status for c in checks.values()), key=_RANK.__getitem__)
    return Health(worst, checks)


class StateFile:
    """Reads the jobs' state file, parsing it again only when it was replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._state: HealthState | None = None

    def read(self) -> HealthState | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        seen = (st.st_ino, st.st_mtime_ns)
        if seen != self._seen:
            try:
                self._state = HealthState.from_json(self.path.read_bytes())
            except (OSError, ValueError, TypeError):
                log.exception("unreadable health state %s", self.path)
                self._state = None
            self._seen = seen
        return self._state


class JobsMonitor:
    """The jobs process's side: job outcomes in, the state file out."""

    def __init__(self, path: Path, *, chain_id: int) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._state = HealthState(written_at=time.time(), started_at=time.time(), chain_id=chain_id)

    def ran(self, job: str, exc: BaseException | None) -> bool:
        """Records a run's end; True when the outcome changed (worth writing at once)."""
        code = None if exc is None else error_code(job, exc)
        with self._lock:
            run = self._state.jobs.setdefault(job, JobRun())
            changed = run.last_run_at is None or run.error != code
            run.last_run_at, run.error = time.time(), code
        return changed

    def observe(
        self,
        *,
        head: int | None,
        head_changed_at: float | None,
        indexed: int | None,
        node_behind: bool,
        last_sync_at: float | None,
        reorgs: int,
        alarms: Mapping[str, str],
        balances: Mapping[str, int],
    ) -> None:
        with self._lock:
            s = self._state
            s.head, s.head_changed_at, s.indexed, s.node_behind = head, head_changed_at, indexed, node_behind
            s.last_sync_at, s.reorgs = last_sync_at, reorgs
            s.alarms, s.balances = sorted(alarms), dict(balances)

    def write(self) -> None:
        with self._lock:
            self._state.written_at = time.time()
            raw = self._state.to_json()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_bytes(raw)
        os.replace(tmp, self.path)  # readers see the old file or the new one, never half of one
