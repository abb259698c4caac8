from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Server


@pytest.fixture(scope="module")
def server(anvil: AnvilNode, data_dir: Path, deployment: Deployment) -> Iterator[Server]:
    srv = Server(rpc_url=anvil.url, data_dir=data_dir).start()
    yield srv
    srv.stop()


@pytest.fixture
def db(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """A read-only look at the server's own SQLite file."""
    conn = sqlite3.connect(f"file:{data_dir / 'ledger.db'}?mode=ro", uri=True)
    yield conn
    conn.close()
