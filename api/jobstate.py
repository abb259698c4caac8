"""What an API worker knows about the background jobs without asking the node: the jobs' state file
(ledger/health.py) and a briefly cached probe of its own database connection. Shared by `/healthz`,
`/v1/indexer/status` and `/metrics`."""

from __future__ import annotations

import logging
import time

from sqlalchemy import text

from ledger.health import Health, HealthState, StateFile, assess

from .services import Services

log = logging.getLogger(__name__)

_PROBE_TTL = 1.0  # seconds a database probe's answer is reused: pollers cost one query a second


class JobState:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.file = StateFile(services.settings.health_path)
        self._probed_at = -1e9
        self._database_ok = False

    def state(self) -> HealthState | None:
        return self.file.read()

    def database_ok(self) -> bool:
        now = time.monotonic()
        if now - self._probed_at >= _PROBE_TTL:
            try:
                with self.services.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                ok = True
            except Exception:  # the reason goes to the log; clients get database_unavailable
                log.exception("database probe failed")
                ok = False
            self._database_ok, self._probed_at = ok, time.monotonic()
        return self._database_ok

    def health(self) -> tuple[Health, HealthState | None]:
        settings = self.services.settings
        state = self.state()
        health = assess(
            state,
            now=time.time(),
            database_ok=self.database_ok(),
            stale_after=settings.health_stale_seconds,
            max_lag=settings.indexer_max_lag,
            head_stall_seconds=settings.head_stall_seconds,
        )
        return health, state


def job_state(services: Services) -> JobState:
    """The worker's one JobState, made on first use."""
    found = services.__dict__.get("_job_state")
    if found is None:
        found = services.__dict__["_job_state"] = JobState(services)
    assert isinstance(found, JobState)
    return found
