"""A relayer key without RELAYER_ROLE: nothing is sent and an alarm says why; the actions wait in
the queue (they do not fail) and go through once the role is granted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_hash.auto import keccak
from web3 import Web3

from ledger.deploy import Deployment
from ledger.errors import DeploymentError
from ledger.settings import Settings

from ..support import Resident
from .conftest import Rig

RELAYER_ROLE = keccak(b"RELAYER_ROLE")


def _set_role(settings: Settings, deployment: Deployment, function: str, account: str) -> None:
    w3 = Web3(Web3.HTTPProvider(settings.rpc))
    admin = settings.deployer()
    contract = w3.eth.contract(
        address=deployment.address("PloggingRegistry"), abi=deployment.contracts["PloggingRegistry"].abi
    )
    tx = getattr(contract.functions, function)(RELAYER_ROLE, account).build_transaction(
        {
            "from": admin.address,
            "nonce": w3.eth.get_transaction_count(admin.address, "pending"),
            "gas": 200_000,
            "chainId": deployment.chain_id,
        }
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1


def test_a_key_without_the_role_sends_nothing_until_granted(
    make_rig: Callable[..., Rig], settings: Settings, deployment: Deployment
) -> None:
    rig = make_rig(batch_max_size=5)
    key = rig.key.address
    _set_role(settings, deployment, "revokeRole", key)
    try:
        ids = rig.accept([Resident() for _ in range(4)])
        for _ in range(3):
            with pytest.raises(DeploymentError, match="lack RELAYER_ROLE"):
                rig.relayer.tick()
        assert f"{key} on PloggingRegistry" in rig.relayer.alarms["roles"]
        assert rig.statuses(ids) == {"queued": 4}  # waiting, not failed
        assert rig.rows("SELECT count(*) FROM relay_tx")[0][0] == 0  # no gas spent
    finally:
        _set_role(settings, deployment, "grantRole", key)
    rig.run_until(rig.all_final(ids))
    assert rig.statuses(ids) == {"confirmed": 4}
    assert "roles" not in rig.relayer.alarms
