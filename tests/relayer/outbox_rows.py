"""Outbox rows written directly, as no API would accept them: hostile, malformed or smart-account
actions. The outbox's own insert (`accept_actions`) stores them exactly as given."""

from __future__ import annotations

import os
import time
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from ledger.db import session_scope
from ledger.deploy import Deployment
from ledger.kinds import PLOGGING, VerifiedAction
from ledger.outbox import accept_actions
from ledger.types import Address

from ..support import plogging_payload


def session(resident: str, nonce: int, **overrides: Any) -> dict[str, Any]:
    """A well-formed plogging message (a fresh, chronological session), fields overridden."""
    message = {
        "resident": resident,
        **plogging_payload(),
        "nonce": nonce,
        "deadline": int(time.time()) + 3600,
    }
    message.update(overrides)
    return message


def signed_by(signer: LocalAccount, deployment: Deployment, message: dict[str, Any]) -> str:
    """`signer`'s EIP-712 signature of `message` (its resident may be another address: a wallet)."""
    typed = PLOGGING.typed_data(deployment.chain_id, deployment.address("PloggingRegistry"), message)
    return str(signer.sign_message(encode_typed_data(full_message=typed)).signature.to_0x_hex())


def digest(deployment: Deployment, message: dict[str, Any]) -> str:
    return "0x" + PLOGGING.digest(deployment.chain_id, deployment.address("PloggingRegistry"), message).hex()


def insert(
    engine: Engine,
    deployment: Deployment,
    message: dict[str, Any],
    signature: str,
    action_id: str | None = None,
) -> str:
    """Stores one plogging action as given; its id is `action_id`, or a random one."""
    action = VerifiedAction(
        id=action_id or "0x" + os.urandom(32).hex(),
        kind="plogging",
        contract=Address(deployment.address("PloggingRegistry")),
        resident=Address(message["resident"]),
        nonce=int(message["nonce"]),
        deadline=int(message["deadline"]),
        message=message,
        signature=signature,
    )
    with session_scope(engine) as s:
        [stored] = accept_actions(session=s, actions=[action])
    return action.id if not isinstance(stored, Exception) else ""
