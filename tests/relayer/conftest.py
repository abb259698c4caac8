"""The relayer in-process against a real anvil and a real SQLite file, each test with its own key."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ledger.chain.decode import PLOGGING_RECORDED
from ledger.chain.rpc import HttpRpc
from ledger.db import make_engine
from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.relayer import Relayer
from ledger.settings import Settings
from migrations import migrate

from ..chain.activity import accept_signed
from ..support import Resident

KEYS = 8
_key_index = itertools.count()


@pytest.fixture(scope="module")
def settings(anvil: AnvilNode, data_dir: Path) -> Settings:
    # Eight relayer keys get RELAYER_ROLE at deployment; each test takes one of its own, so a
    # transaction one test leaves in the pool never meets another test's nonces.
    return Settings(env="test", rpc_url=anvil.url, data_dir=data_dir, relayer_count=KEYS)  # type: ignore[arg-type]


class Rig:
    def __init__(self, settings: Settings, deployment: Deployment, db: Path, rpc_url: str | None) -> None:
        self.settings = settings
        self.deployment = deployment
        self.engine: Engine = make_engine(f"sqlite:///{db}")
        migrate(self.engine)
        self.node = HttpRpc(settings.rpc)
        self.rpc = HttpRpc(rpc_url or settings.rpc, timeout=1.0)
        self.key = settings.relayers()[next(_key_index) % KEYS]
        self.relayer = Relayer(
            engine=self.engine, rpc=self.rpc, deployment=deployment, settings=settings, accounts=[self.key]
        )
        self.nonces: dict[str, int] = {}
        self.errors: list[Exception] = []

    def accept(self, residents: list[Resident], **overrides: Any) -> list[str]:
        return accept_signed(self.engine, self.deployment, residents, self.nonces, **overrides)

    def statuses(self, ids: list[str] | None = None) -> Counter[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status FROM action")).all()
        return Counter(st for i, st in rows if ids is None or i in ids)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def run_until(self, done: Callable[[], bool], *, ticks: int = 300, mine: bool = False) -> None:
        """Ticks (mining a block after each when automine is off) until `done`; fails after `ticks`."""
        for _ in range(ticks):
            try:
                self.relayer.tick()
            except Exception as exc:  # a faulty node fails a tick; the scheduler just runs the next
                self.errors.append(exc)
            if mine:
                self.node.call("evm_mine")
            if done():
                return
        raise AssertionError(
            f"not done after {ticks} ticks: {self.statuses()}; tick errors: {self.errors[-3:]}"
        )

    def all_final(self, ids: list[str]) -> Callable[[], bool]:
        return lambda: sum(self.statuses(ids)[s] for s in ("confirmed", "failed")) == len(ids)

    def chain_records(self) -> Counter[str]:
        logs = self.node.call(
            "eth_getLogs",
            [
                {
                    "address": self.deployment.address("PloggingRegistry"),
                    "topics": [PLOGGING_RECORDED],
                    "fromBlock": hex(self.deployment.start_block),
                    "toBlock": "latest",
                }
            ],
        )
        return Counter(entry["topics"][1] for entry in logs)

    def chain_nonce(self, tag: str = "latest") -> int:
        return int(self.node.call("eth_getTransactionCount", [self.key.address, tag]), 16)


@pytest.fixture
def make_rig(settings: Settings, deployment: Deployment, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(rpc_url: str | None = None, **overrides: Any) -> Rig:
        rig = Rig(
            settings.model_copy(update={"batch_max_age": 0.0, **overrides}),
            deployment,
            tmp_path / f"relayer-{len(made)}.db",
            rpc_url,
        )
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.rpc.close()
        rig.node.close()
        rig.engine.dispose()


@pytest.fixture
def manual_mining(rpc: HttpRpc) -> Iterator[None]:
    """Blocks only when the test mines them (`evm_mine`): a transaction stays pending on purpose."""
    rpc.call("evm_setAutomine", [False])
    yield
    rpc.call("evm_setAutomine", [True])
