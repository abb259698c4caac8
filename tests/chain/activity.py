"""Real on-chain activity for chain-level tests: residents sign sessions, the real relayer sends them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ledger.chain.rpc import HttpRpc
from ledger.db import make_engine, session_scope
from ledger.deploy import Deployment
from ledger.intake import verify_submission
from ledger.kinds import PLOGGING
from ledger.outbox import accept_action
from ledger.relayer import Relayer
from ledger.settings import Settings
from migrations import migrate

from ..support import Resident, plogging_payload


class Activity:
    def __init__(self, settings: Settings, deployment: Deployment, db_path: Path) -> None:
        self.settings = settings.model_copy(update={"batch_max_age": 0.0})
        self.deployment = deployment
        self.engine: Engine = make_engine(f"sqlite:///{db_path}")
        migrate(self.engine)
        self.rpc = HttpRpc(settings.rpc)
        self.relayer = Relayer(
            engine=self.engine,
            rpc=self.rpc,
            deployment=deployment,
            settings=self.settings,
            accounts=self.settings.relayers(),
        )
        self.nonces: dict[str, int] = {}

    def record(self, residents: list[Resident], **overrides: Any) -> list[str]:
        """Signs one session per resident, relays them in one batch, and returns their digests."""
        ids = accept_signed(self.engine, self.deployment, residents, self.nonces, **overrides)
        self.relayer.tick()  # sends
        self.relayer.tick()  # settles (automine: the receipt is there)
        return ids


def accept_signed(
    engine: Engine,
    deployment: Deployment,
    residents: list[Resident],
    nonces: dict[str, int],
    **overrides: Any,
) -> list[str]:
    """Each resident signs one session (next nonce from `nonces`), accepted into the outbox as the
    API would; returns the digests."""
    address = deployment.address("PloggingRegistry")
    ids = []
    with session_scope(engine) as s:
        for resident in residents:
            nonce = nonces.get(resident.address, 0)
            nonces[resident.address] = nonce + 1
            message = {
                "resident": resident.address,
                **plogging_payload(**overrides),
                "nonce": nonce,
                "deadline": int(time.time()) + 3600,
            }
            typed = PLOGGING.typed_data(deployment.chain_id, address, message)
            action = verify_submission(
                typed,
                resident.sign(typed),
                chain_id=deployment.chain_id,
                contracts={"PloggingRegistry": address},
                now=int(time.time()),
            )
            ids.append(accept_action(session=s, action=action).id)
    return ids
