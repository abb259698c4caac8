"""Two server processes with the same relayer keys against one PostgreSQL: the SQL nonce allocator
(row locks) never lets them use a nonce twice, and every action is recorded exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Postgres, Resident, Server, wait_until
from .test_plogging_e2e import submit_signed
from .test_restart import _chain_records

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PER_SERVER = 40


def test_two_servers_never_share_a_nonce(
    anvil: AnvilNode, data_dir: Path, deployment: Deployment, postgres: Postgres, rpc: HttpRpc
) -> None:
    url = postgres.database("two_servers")
    # Small batches and no waiting: both relayers sign as often as they can, racing for nonces.
    fast = {"ESG_BATCH_MAX_SIZE": "3", "ESG_BATCH_MAX_AGE": "0", "ESG_RELAYER_INTERVAL": "0.02"}
    servers = [
        Server(rpc_url=anvil.url, data_dir=data_dir, database_url=url, **fast).start() for _ in range(2)
    ]
    ids: list[str] = []
    try:

        def submit(server: Server) -> None:
            with server.client() as client:
                for _ in range(PER_SERVER):
                    ids.append(submit_signed(client, Resident())[2])

        threads = [threading.Thread(target=submit, args=(s,)) for s in servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        engine = create_engine(url)
        with engine.connect() as conn:

            def settled() -> bool:
                rows = conn.execute(text("SELECT status, count(*) FROM action GROUP BY status")).all()
                conn.rollback()
                return dict(rows) == {"confirmed": 2 * PER_SERVER}

            wait_until(settled, 90, "every action to confirm")
            txs = conn.execute(text("SELECT sender, nonce, status, kind FROM relay_tx")).all()
        engine.dispose()
    finally:
        for s in servers:
            s.stop()

    assert len(ids) == 2 * PER_SERVER
    per_nonce = Counter((sender, nonce) for sender, nonce, _, _ in txs)
    assert len(txs) > 4 and max(per_nonce.values()) == 1  # no (key, nonce) was ever signed twice
    sender = txs[0][0]
    mined = sorted(n for s, n, status, _ in txs if s == sender and status == "mined")
    assert mined[-1] - mined[0] + 1 == len(mined)  # and none was skipped
    records = _chain_records(rpc, deployment)
    assert [records[i] for i in ids] == [1] * len(ids)
