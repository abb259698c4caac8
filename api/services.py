"""The long-lived parts the routes use: engine, node connection, deployment, relayer, indexer, scheduler."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from indexer.runner import Indexer
from ledger.chain.rpc import HttpRpc
from ledger.committer import AcceptQueue
from ledger.db import make_engine
from ledger.demo import seed_demo
from ledger.deploy import Deployment, ensure_deployment
from ledger.enrolment import EnrolmentGate
from ledger.errors import ChainError
from ledger.health import JobsMonitor
from ledger.outbox import ResidentLimits
from ledger.platforms.demo import seed_demo_platform
from ledger.relayer import Relayer
from ledger.settings import Settings
from migrations import migrate

log = logging.getLogger(__name__)

ERC1271_MAGIC = "0x1626ba7e"


@dataclass
class Services:
    settings: Settings
    engine: Engine
    rpc: HttpRpc
    deployment: Deployment
    relayer: Relayer
    indexer: Indexer
    scheduler: BackgroundScheduler = field(default_factory=lambda: BackgroundScheduler(daemon=True))

    @classmethod
    def start(cls, settings: Settings, *, run_jobs: bool = True) -> Services:
        settings.check_serving()
        engine = make_engine(settings.db_url)
        migrate(engine)
        rpc = HttpRpc(settings.rpc)
        _wait_for_node(rpc, timeout=60)
        deployment = ensure_deployment(settings, rpc)
        if settings.demo_data:  # development only: the settings refuse it in production
            _seed_demo(settings, rpc, deployment, engine)
            _seed_demo_staff(settings, deployment, engine)
            # ledger/platforms/demo.py: its enroller address is granted ENROLLER_ROLE on `deployment`
            seed_demo_platform(settings=settings, engine=engine, deployment=deployment)
        relayer = Relayer(
            engine=engine,
            rpc=HttpRpc(settings.rpc),
            deployment=deployment,
            settings=settings,
            accounts=settings.relayers(),
        )
        indexer = Indexer(
            engine,
            HttpRpc(settings.rpc),
            chain_id=deployment.chain_id,
            addresses=[c.address for c in deployment.contracts.values()],
            start_block=deployment.start_block,
            finality_depth=settings.finality_depth,
            max_range=settings.indexer_max_range,
        )
        services = cls(
            settings=settings, engine=engine, rpc=rpc, deployment=deployment, relayer=relayer, indexer=indexer
        )
        if run_jobs:
            services._schedule()
        return services

    def _schedule(self) -> None:
        monitor = JobsMonitor(self.settings.health_path, chain_id=self.deployment.chain_id)

        def heartbeat() -> None:
            status = self.indexer.status
            monitor.observe(
                head=status.head,
                head_changed_at=status.head_changed_at,
                indexed=status.indexed,
                node_behind=status.node_behind,
                last_sync_at=status.last_sync_at,
                reorgs=status.reorgs,
                alarms=self.relayer.alarms,
                balances=self.relayer.balances,
            )
            monitor.write()

        def guarded(name: str, job: object) -> None:
            error: Exception | None = None
            try:
                job()  # type: ignore[operator]
            except Exception as exc:  # a job must never die: log, remember, try again next interval
                error = exc  # its text stays in the log; the health state gets a code
                log.exception("%s job failed", name)
            if monitor.ran(name, error):
                _logged(heartbeat)()  # an outcome changed: tell the API workers now, not at the next beat

        self.scheduler.add_job(
            guarded,
            "interval",
            args=("relayer", self.relayer.tick_if_due),
            seconds=self.settings.relayer_interval,
            max_instances=1,
            coalesce=True,
            id="relayer",
        )
        self.scheduler.add_job(
            guarded,
            "interval",
            args=("indexer", self.indexer.sync),
            seconds=self.settings.indexer_interval,
            max_instances=1,
            coalesce=True,
            id="indexer",
        )
        self.scheduler.add_job(
            _logged(heartbeat),
            "interval",
            seconds=self.settings.health_interval,
            max_instances=1,
            coalesce=True,
            id="health",
        )
        heartbeat()  # "starting" replaces whatever an earlier run left
        self.scheduler.start()

    @cached_property
    def contract_addresses(self) -> dict[str, str]:
        return {name: c.address for name, c in self.deployment.contracts.items()}

    @cached_property
    def limits(self) -> ResidentLimits:
        return ResidentLimits(
            per_minute=self.settings.resident_rate_per_minute, per_day=self.settings.resident_daily_cap
        )

    @cached_property
    def enrolment(self) -> EnrolmentGate:
        """ESG_ENROLMENT_POLICY, applied by prepare and submit (ledger/enrolment.py)."""
        return EnrolmentGate(
            self.engine,
            chain_id=self.deployment.chain_id,
            policy=self.settings.enrolment_policy,
            ttl=self.settings.enrolment_cache_seconds,
        )

    @cached_property
    def accept_queue(self) -> AcceptQueue:
        return AcceptQueue(self.engine, limits=self.limits, delay=self.settings.accept_commit_delay_ms / 1000)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.relayer.close()
        if "accept_queue" in self.__dict__:
            self.accept_queue.close()
        self.rpc.close()
        self.engine.dispose()

    def erc1271_valid(self, account: str, digest: bytes, signature: bytes) -> bool:
        """Asks a smart-account resident's contract whether it accepts `signature` for `digest`."""
        if self.rpc.call("eth_getCode", [account, "latest"]) in ("0x", "0x0", None):
            return False
        from eth_abi.abi import encode

        data = "0x1626ba7e" + encode(["bytes32", "bytes"], [digest, signature]).hex()
        try:
            result = self.rpc.call("eth_call", [{"to": account, "data": data}, "latest"])
        except ChainError:
            return False
        return isinstance(result, str) and result[:10].lower() == ERC1271_MAGIC


def _logged(job: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:  # the state file is advisory: a missed beat shows as stale, never crashes
            log.exception("could not write the health state")

    return run


def _seed_demo(settings: Settings, rpc: HttpRpc, deployment: Deployment, engine: Engine) -> None:
    try:
        seed_demo(settings=settings, rpc=rpc, deployment=deployment, engine=engine)
    except Exception:  # demo records are a convenience: serve without them (and say why)
        log.exception("could not seed the demo partner, cause and campaign")


def _seed_demo_staff(settings: Settings, deployment: Deployment, engine: Engine) -> None:
    from ledger.staff import seed_demo_staff

    try:
        seed_demo_staff(settings=settings, engine=engine, deployment=deployment)
    except Exception:  # a development convenience, as the demo records
        log.exception("could not create the demo staff account")


def _wait_for_node(rpc: HttpRpc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            rpc.call("eth_chainId")
            return
        except ChainError:
            if time.monotonic() > deadline:
                raise
            log.info("waiting for the node at %s", rpc.url)
            time.sleep(1)
