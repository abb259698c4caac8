"""The same round trip with PostgreSQL as the database (production's setting)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Postgres, Resident, Server, wait_until
from .test_plogging_e2e import submit_signed, wait_final

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_server(
    anvil: AnvilNode, data_dir: Path, deployment: Deployment, postgres: Postgres
) -> Iterator[Server]:
    srv = Server(rpc_url=anvil.url, data_dir=data_dir, database_url=postgres.url).start()
    yield srv
    srv.stop()


def test_round_trip_with_postgres(pg_server: Server, postgres: Postgres) -> None:
    client = pg_server.client()
    residents = [Resident() for _ in range(5)]
    ids = [submit_signed(client, r)[2] for r in residents for _ in range(2)]
    assert all(wait_final(client, i)["status"] == "confirmed" for i in ids)

    engine = create_engine(postgres.url)
    with engine.connect() as conn:
        wait_until(
            lambda: (
                conn.execute(
                    text("SELECT count(*) FROM plogging_session WHERE digest = ANY(:ids)"), {"ids": ids}
                ).scalar()
                == len(ids)
                or conn.rollback()
            ),
            20,
            "the PostgreSQL mirror to hold every session",
        )
        assert conn.execute(text("SELECT count(*) FROM action")).scalar() == len(ids)
    engine.dispose()
    body = client.get(f"/v1/residents/{residents[0].address}").json()
    assert body["plogging"]["sessions"] == 2
    assert body["balance"] > 0
