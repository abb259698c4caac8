"""The indexer against a real anvil, on SQLite and PostgreSQL: mirror == chain (the audit's verdict)
through every kind of event, forks of depth 1 to 20, rebuilds and handler changes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from indexer.errors import ReorgTooDeepError
from indexer.models import DERIVED_VERSION
from indexer.store import store
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.settings import Settings

from ..faults import Answer, Decision, FaultProxy, Forward
from ..support import Postgres, Resident
from .mirror import assert_mirror_equals_chain, database, dump, make_indexer
from .scenario import Scenario

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module")
def scenario(settings: Settings, deployment: Deployment) -> Scenario:
    """Every contract event, made once per module (before any test's fork)."""
    s = Scenario(settings, deployment)
    s.run()
    return s


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    pg: Postgres | None = request.getfixturevalue("postgres") if request.param == "postgres" else None
    e = database(request.param, tmp_path, pg)
    yield e
    e.dispose()


def test_every_event_mirrored_and_rebuild_equals_incremental(
    scenario: Scenario, deployment: Deployment, rpc: HttpRpc, engine: Engine, tmp_path: Path
) -> None:
    # incremental: two-block ranges, so state tables are folded over many batches
    incremental = make_indexer(deployment, rpc, engine, max_range=2)
    incremental.sync()
    assert_mirror_equals_chain(incremental, rpc, deployment)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM feedback_item")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM admin_action")).scalar() > 40

    rebuilt = make_indexer(deployment, rpc, database("sqlite", tmp_path))  # one range, from scratch
    rebuilt.sync()
    assert dump(rebuilt.engine) == dump(engine)
    assert incremental.sync().events == 0  # idempotent: nothing new, nothing doubled
    assert dump(rebuilt.engine) == dump(engine)


def test_a_handler_change_rebuilds_only_its_tables_from_raw_logs_without_the_node(
    scenario: Scenario, deployment: Deployment, rpc: HttpRpc, engine: Engine
) -> None:
    make_indexer(deployment, rpc, engine).sync()
    before = dump(engine)
    with engine.begin() as conn:
        # as if the code's feedback_item fold and token_transfer decoding changed since these were built
        conn.execute(text("DELETE FROM feedback_item"))
        conn.execute(text("DELETE FROM token_transfer"))
        conn.execute(text("UPDATE balance SET balance = balance + 1"))
        conn.execute(
            DERIVED_VERSION.update()
            .where(DERIVED_VERSION.c.name.in_(["feedback_item", "token_transfer"]))
            .values(version="old")
        )
    offline = make_indexer(deployment, HttpRpc("http://127.0.0.1:9", timeout=0.5), engine)
    rebuilt = offline.ensure_derived()
    assert rebuilt == ["balance", "feedback_item", "token_transfer"]  # balance reads token_transfer
    assert dump(engine) == before
    assert offline.ensure_derived() == []


def _fork_branch(scenario: Scenario, depth: int) -> Resident:
    """Up to three transactions that touch event and state tables, then empty blocks: `depth` blocks."""
    doomed = Resident()
    txs = [
        lambda: scenario.record(scenario.session(doomed), scenario.session(scenario.c_resident)),
        lambda: scenario.send(scenario.admin, "FeedbackBox", "moderate", 2, False, 0),
        lambda: scenario.send(
            scenario.admin,
            "CommunityRewards",
            "setPartner",
            scenario.partner.address,
            False,
            2**40,
            b"\x01" * 32,
        ),
    ][:depth]
    for tx in txs:
        tx()
    if depth > len(txs):
        scenario.w3.provider.make_request("anvil_mine", [hex(depth - len(txs))])  # type: ignore[arg-type]
    return doomed


@pytest.mark.parametrize("depth", range(1, 21))
def test_fork_of_depth_1_to_20_is_rolled_back_and_reindexed(
    scenario: Scenario, deployment: Deployment, rpc: HttpRpc, tmp_path: Path, depth: int
) -> None:
    indexer = make_indexer(deployment, rpc, database("sqlite", tmp_path), finality_depth=32)
    indexer.sync()
    snapshot, nonces = rpc.call("evm_snapshot"), dict(scenario.nonces)
    doomed = _fork_branch(scenario, depth)
    indexer.sync()
    assert doomed.address in str(dump(indexer.engine)["resident"])

    assert rpc.call("evm_revert", [snapshot])
    scenario.nonces = nonces
    survivor = Resident()
    scenario.record(scenario.session(survivor))
    rpc.call("anvil_mine", [hex(depth)])  # the new branch is longer than the old one
    result = indexer.sync()

    assert result.reorgs == 1
    assert_mirror_equals_chain(indexer, rpc, deployment)
    mirror = str(dump(indexer.engine))
    assert doomed.address not in mirror
    assert survivor.address in mirror
    fresh = make_indexer(deployment, rpc, database("sqlite", tmp_path))
    fresh.sync()
    assert dump(fresh.engine) == dump(indexer.engine)


@pytest.mark.postgres
def test_fork_on_postgres(
    scenario: Scenario, deployment: Deployment, rpc: HttpRpc, postgres: Postgres, tmp_path: Path
) -> None:
    indexer = make_indexer(deployment, rpc, database("postgres", tmp_path, postgres))
    indexer.sync()
    snapshot, nonces = rpc.call("evm_snapshot"), dict(scenario.nonces)
    _fork_branch(scenario, 5)
    indexer.sync()
    assert rpc.call("evm_revert", [snapshot])
    scenario.nonces = nonces
    scenario.record(scenario.session(Resident()))
    rpc.call("anvil_mine", ["0x6"])
    assert indexer.sync().reorgs == 1
    assert_mirror_equals_chain(indexer, rpc, deployment)


def test_fork_deeper_than_finality_halts(
    scenario: Scenario, deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    indexer = make_indexer(deployment, rpc, database("sqlite", tmp_path), finality_depth=3)
    snapshot, nonces = rpc.call("evm_snapshot"), dict(scenario.nonces)
    scenario.record(scenario.session(Resident()))
    rpc.call("anvil_mine", ["0x6"])
    indexer.sync()
    before = dump(indexer.engine)
    assert rpc.call("evm_revert", [snapshot])
    scenario.nonces = nonces
    rpc.call("anvil_mine", ["0xa"])
    with pytest.raises(ReorgTooDeepError, match="deeper than the finality depth"):
        indexer.sync()
    assert dump(indexer.engine) == before  # halted, changed nothing


def test_a_node_whose_head_went_backwards_is_not_trusted(
    scenario: Scenario, deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    indexer = make_indexer(deployment, rpc, database("sqlite", tmp_path))
    indexer.sync()
    before = dump(indexer.engine)

    def behind(method: str, _params: list[Any]) -> Decision:
        return Answer(hex(deployment.start_block + 1)) if method == "eth_blockNumber" else Forward()

    with FaultProxy(rpc.url, behind) as proxy:
        lagging = make_indexer(deployment, HttpRpc(proxy.url), indexer.engine)
        result = lagging.sync()
    assert lagging.status.node_behind and result.reorgs == 0
    assert dump(indexer.engine) == before


def test_a_writer_that_lost_the_race_stores_nothing(
    scenario: Scenario, deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    indexer = make_indexer(deployment, rpc, database("sqlite", tmp_path))
    indexer.sync()
    before = dump(indexer.engine)
    cursor = indexer.cursor()
    assert cursor is not None
    transfer = {"token": deployment.address("ParticipationToken"), "value": 5}
    transfer |= {"from_address": "0x" + "0" * 40, "to_address": Resident().address}
    position = {"chain_id": deployment.chain_id, "block_number": cursor[0] + 1, "log_index": 0}
    position |= {"block_hash": "0x" + os.urandom(32).hex(), "tx_hash": "0x" + "00" * 32}
    with indexer.engine.begin() as conn:
        stored = store(
            conn,
            deployment.chain_id,
            raw=[],
            rows={"token_transfer": [position | transfer]},
            blocks={},
            cursor=(cursor[0] + 1, position["block_hash"]),
            previous=cursor[0] - 1,  # read before the other writer moved the cursor
            finality_depth=64,
        )
    assert not stored
    assert dump(indexer.engine) == before
