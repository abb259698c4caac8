"""The indexer against a real anvil: mirror == chain, through forks, restarts and rebuilds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from indexer.decode import decode_logs
from indexer.errors import ReorgTooDeepError
from indexer.runner import Indexer
from ledger.db import make_engine, migrate
from ledger.deploy import Deployment
from ledger.rpc import HttpRpc
from ledger.settings import Settings

from ..support import Resident
from .activity import Activity

TABLES = ("plogging_session", "token_transfer", "action_failure")


@pytest.fixture(scope="module")
def activity(
    settings: Settings, deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> Activity:
    return Activity(settings, deployment, tmp_path_factory.mktemp("activity") / "relayer.db")


def make_indexer(deployment: Deployment, rpc: HttpRpc, db: Path, **kwargs: Any) -> Indexer:
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    return Indexer(
        engine,
        rpc,
        chain_id=deployment.chain_id,
        addresses=[c.address for c in deployment.contracts.values()],
        start_block=deployment.start_block,
        **kwargs,
    )


def mirror_rows(indexer: Indexer) -> dict[str, set[tuple[Any, ...]]]:
    out = {}
    with indexer.engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
            out[table] = {tuple(sorted((k, v) for k, v in r.items() if k != "id")) for r in rows}
    return out


def chain_rows(deployment: Deployment, rpc: HttpRpc) -> dict[str, set[tuple[Any, ...]]]:
    logs = rpc.call(
        "eth_getLogs",
        [
            {
                "address": [c.address for c in deployment.contracts.values()],
                "fromBlock": hex(deployment.start_block),
                "toBlock": "latest",
            }
        ],
    )
    return {
        t: {tuple(sorted(r.items())) for r in rows}
        for t, rows in decode_logs(logs, deployment.chain_id).items()
    }


def test_mirror_equals_chain_and_rebuild_equals_incremental(
    activity: Activity, deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    incremental = make_indexer(deployment, rpc, tmp_path / "incremental.db")
    residents = [Resident() for _ in range(6)]
    for _ in range(4):
        activity.record(residents)
        incremental.sync()
    assert mirror_rows(incremental) == chain_rows(deployment, rpc)
    assert len(mirror_rows(incremental)["plogging_session"]) >= 24

    rebuilt = make_indexer(deployment, rpc, tmp_path / "rebuilt.db", max_range=3)
    rebuilt.sync()
    assert mirror_rows(rebuilt) == mirror_rows(incremental)

    again = incremental.sync()  # idempotent: nothing new, nothing doubled
    assert again.events == 0
    assert mirror_rows(incremental) == chain_rows(deployment, rpc)


@pytest.mark.parametrize("depth", [1, 3, 12])
def test_fork_is_rolled_back_and_reindexed(
    activity: Activity, settings: Settings, deployment: Deployment, rpc: HttpRpc, tmp_path: Path, depth: int
) -> None:
    indexer = make_indexer(deployment, rpc, tmp_path / "fork.db")
    activity.record([Resident()])
    indexer.sync()
    snapshot = rpc.call("evm_snapshot")
    doomed = Resident()
    # A relayer that is never run again records the doomed session: ours would re-submit an action
    # whose block left the chain (tests/relayer covers that), and this test is about the mirror.
    Activity(settings, deployment, tmp_path / "doomed-relayer.db").record([doomed])
    rpc.call("anvil_mine", [hex(depth - 1)])
    indexer.sync()
    assert any(doomed.address in str(r) for r in mirror_rows(indexer)["plogging_session"])

    assert rpc.call("evm_revert", [snapshot])
    activity.nonces.pop(doomed.address, None)
    survivor = Resident()
    activity.record([survivor])
    rpc.call("anvil_mine", [hex(depth + 1)])
    result = indexer.sync()

    assert result.reorgs == 1
    rows = mirror_rows(indexer)
    assert rows == chain_rows(deployment, rpc)
    assert not any(doomed.address in str(r) for r in rows["plogging_session"])
    assert any(survivor.address in str(r) for r in rows["plogging_session"])


def test_fork_deeper_than_finality_halts(
    activity: Activity, deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    indexer = make_indexer(deployment, rpc, tmp_path / "deep.db", finality_depth=3)
    snapshot = rpc.call("evm_snapshot")
    activity.record([Resident()])
    rpc.call("anvil_mine", ["0x6"])
    indexer.sync()
    before = mirror_rows(indexer)
    assert rpc.call("evm_revert", [snapshot])
    rpc.call("anvil_mine", ["0xa"])
    with pytest.raises(ReorgTooDeepError, match="deeper than the finality depth"):
        indexer.sync()
    assert mirror_rows(indexer) == before  # halted, changed nothing
