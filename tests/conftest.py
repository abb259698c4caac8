"""Fixtures: a real anvil per module (automine) with the contracts deployed, and real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment, deploy
from ledger.node import AnvilNode
from ledger.settings import Settings

from .support import Postgres, free_port


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode(port=free_port(), block_time=0) as node:
        yield node


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def settings(anvil: AnvilNode, data_dir: Path) -> Settings:
    return Settings(env="test", rpc_url=anvil.url, data_dir=data_dir)


@pytest.fixture(scope="module")
def deployment(settings: Settings) -> Deployment:
    return deploy(settings)


@pytest.fixture(scope="module")
def rpc(anvil: AnvilNode) -> Iterator[HttpRpc]:
    client = HttpRpc(anvil.url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = Postgres().start()
    yield pg
    pg.stop()
