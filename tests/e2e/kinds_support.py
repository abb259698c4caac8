"""Helpers for the end-to-end tests of every action kind: a chain with its own deployment and server
(on SQLite or on a fresh PostgreSQL database), the deployer's admin calls that kinds need (partners,
causes, achieved campaigns with a published bonus tree), and checks of an action's receipt, its row
in the SQL mirror and the resident's reads."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
from eth_hash.auto import keccak
from sqlalchemy import Engine, text
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from ledger.bonus import post_root, publish_tree
from ledger.db import make_engine, read_scope, session_scope
from ledger.deploy import Deployment, deploy
from ledger.kinds import KINDS
from ledger.node import AnvilNode
from ledger.settings import Settings

from ..support import Postgres, Resident, Server, free_port, plogging_payload, wait_until
from .test_plogging_e2e import wait_final

TOKEN = "platform-token-for-kind-tests-" + os.urandom(8).hex()
AUTH = {"authorization": f"Bearer {TOKEN}"}

# The mirror's table for each kind's recorded event (ledger.chain.events)
RECORD_TABLE = {
    "plogging": "plogging_session",
    "feedback": "feedback_submission",
    "support": "feedback_support",
    "redemption": "redemption",
    "donation": "donation",
    "claim": "bonus_claim",
}
# what the default plogging_payload() earns under the default policy (10/km, 5 per 100 g)
SESSION_REWARD = 600 * 10 // 1000 + 850 * 5 // 100


def _h(label: str) -> bytes:
    return keccak(label.encode())


@dataclass
class Stack:
    """One anvil, its deployment, one server on it, and a test-side engine on the server's database."""

    database: str  # "sqlite" or "postgres"
    anvil: AnvilNode
    settings: Settings
    deployment: Deployment
    server: Server
    engine: Engine
    _causes: int = field(default=0)

    @cached_property
    def w3(self) -> Web3:
        return Web3(Web3.HTTPProvider(self.anvil.url, request_kwargs={"timeout": 60}))

    def contract(self, name: str) -> Contract:
        deployed = self.deployment.contracts[name]
        return self.w3.eth.contract(address=Web3.to_checksum_address(deployed.address), abi=deployed.abi)

    def client(self) -> httpx.Client:
        return self.server.client()

    # --- the deployer's admin calls (it holds every admin and ESG role on a fresh deployment)

    def send(self, contract: str, function: str, *args: Any) -> Any:
        admin = self.settings.deployer()
        call = getattr(self.contract(contract).functions, function)(*args)
        tx = call.build_transaction(
            {
                "from": admin.address,
                "nonce": self.w3.eth.get_transaction_count(admin.address, "pending"),
                "gas": 3_000_000,
                "chainId": self.deployment.chain_id,
            }
        )
        sent = self.w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(sent, timeout=60)
        assert receipt["status"] == 1, f"{contract}.{function}{args} reverted"
        return receipt

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def partner(self, *, burn: bool = False) -> str:
        """A newly registered partner's address."""
        address = Resident().address
        self.send("CommunityRewards", "setPartner", address, burn, self.now() + 30 * 86_400, _h(address))
        return address

    def cause(self) -> tuple[int, str]:
        """A newly registered, active cause: (id, wallet)."""
        self._causes += 1
        cause_id, wallet = 100 + self._causes, Resident().address
        self.send("CommunityRewards", "setCause", cause_id, wallet, True, _h(f"cause {cause_id}"))
        return cause_id, wallet

    def campaign(self, allocations: dict[str, int]) -> int:
        """A campaign whose window is over, Achieved, with `allocations` published as its bonus tree
        in the server's database (ledger.bonus) and the tree's root set on chain."""
        now = self.now()
        receipt = self.send(
            "CommunityRewards", "createCampaign", now - 120, now - 60, 0, 0, 1, _h(f"campaign {now}")
        )
        rewards = self.contract("CommunityRewards")
        (created,) = rewards.events.CampaignCreated().process_receipt(receipt, errors=DISCARD)
        campaign_id = int(created["args"]["campaignId"])
        self.send("CommunityRewards", "reportCampaignProgress", campaign_id, 1)
        self.send("CommunityRewards", "finalizeCampaign", campaign_id)
        with session_scope(self.engine) as session:
            publish_tree(
                session=session,
                chain_id=self.deployment.chain_id,
                campaign_id=campaign_id,
                allocations=allocations,
                rule="kinds end-to-end test",
            )
        post_root(
            engine=self.engine,
            deployment=self.deployment,
            signer=self.settings.deployer(),
            rpc_url=self.anvil.url,
            campaign_id=campaign_id,
        )
        return campaign_id

    # --- checks

    def recorded(self, kind: str, status: dict[str, Any]) -> dict[str, Any]:
        """The kind's recorded event in the receipt of a confirmed action, decoded from the ABI:
        it sits at the status's log index, with the kind's topic0 and the action's digest."""
        assert status["status"] == "confirmed", status
        batch = KINDS[kind].batch
        receipt = self.w3.eth.get_transaction_receipt(status["txHash"])
        assert receipt["blockNumber"] == status["blockNumber"]
        (log,) = [entry for entry in receipt["logs"] if entry["logIndex"] == status["logIndex"]]
        assert log["address"] == self.deployment.address(batch.contract)
        assert "0x" + log["topics"][0].hex().removeprefix("0x") == batch.recorded_topic
        assert "0x" + log["topics"][batch.digest_topic].hex().removeprefix("0x") == status["id"]
        event = getattr(self.contract(batch.contract).events, batch.recorded_event)()
        decoded = event.process_log(log)
        return dict(decoded["args"])

    def mirror_row(self, kind: str, digest: str) -> dict[str, Any]:
        """The kind's row in the SQL mirror, once the indexer has it."""
        query = text(f"SELECT * FROM {RECORD_TABLE[kind]} WHERE digest = :d")  # fixed table names

        def row() -> dict[str, Any] | None:
            with read_scope(self.engine) as session:
                found = session.connection().execute(query, {"d": digest}).mappings().all()
            assert len(found) <= 1, found
            return dict(found[0]) if found else None

        return wait_until(row, 30, f"the mirror's {RECORD_TABLE[kind]} row {digest}")  # type: ignore[no-any-return]


@contextmanager
def start_stack(
    database: str, run_dir: Path, postgres: Callable[[], Postgres] | None = None, **env: str
) -> Iterator[Stack]:
    """An anvil with a fresh deployment and a server (custody on) on SQLite or on a new PostgreSQL
    database of the session's throwaway cluster (`postgres` gives it on demand)."""
    database_url: str | None = None
    if database == "postgres":
        assert postgres is not None
        database_url = postgres().database("kinds")
    with AnvilNode(port=free_port(), block_time=0) as anvil:
        settings = Settings(env="test", rpc_url=anvil.url, data_dir=run_dir)
        deployment = deploy(settings)
        server = Server(
            rpc_url=anvil.url,
            data_dir=run_dir,
            database_url=database_url,
            ESG_CUSTODY_MASTER_KEY=os.urandom(32).hex(),
            ESG_PLATFORM_TOKENS=f'["{TOKEN}"]',
            **env,
        ).start()
        engine = make_engine(database_url or f"sqlite:///{run_dir / 'ledger.db'}")
        try:
            stack = Stack(database, anvil, settings, deployment, server, engine)
            with stack.client() as client:
                # feedback's categories come from the mirror: wait until it has the deployment
                wait_until(lambda: client.get("/v1/indexer/status").json()["lag"] == 0, 30, "the mirror")
            yield stack
        finally:
            server.stop()
            engine.dispose()


# --- the resident's side of the HTTP flow


def prepare(client: httpx.Client, kind: str, resident: str, payload: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/v1/actions/prepare", json={"kind": kind, "resident": resident, "payload": payload})
    assert r.status_code == 200, r.text
    typed: dict[str, Any] = r.json()["typedData"]
    return typed


def signed(client: httpx.Client, resident: Resident, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A submission body: the prepared typed data and the resident's signature over it."""
    typed = prepare(client, kind, resident.address, payload)
    return {"typedData": typed, "signature": resident.sign(typed)}


def submit(client: httpx.Client, body: dict[str, Any]) -> str:
    r = client.post("/v1/actions", json=body)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued", r.json()
    action_id: str = r.json()["id"]
    return action_id


def act(
    client: httpx.Client, resident: Resident, kind: str, payload: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Prepare, sign, submit and wait: (the signed message, the action's final status)."""
    body = signed(client, resident, kind, payload)
    status = wait_final(client, submit(client, body))
    assert status["status"] == "confirmed", status
    assert status["kind"] == kind and status["error"] is None, status
    return body["typedData"]["message"], status


def earn(stack: Stack, client: httpx.Client, resident: Resident) -> int:
    """One plogging session recorded for `resident`; the points it earned."""
    _, status = act(client, resident, "plogging", plogging_payload())
    reward = int(stack.recorded("plogging", status)["reward"])
    assert reward == SESSION_REWARD
    return reward


def resident_reads(
    client: httpx.Client, address: str, until: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """GET /v1/residents/{address} once the mirror shows what `until` waits for."""

    def read() -> dict[str, Any] | None:
        r = client.get(f"/v1/residents/{address}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body if until(body) else None

    return wait_until(read, 30, what)  # type: ignore[no-any-return]


def token_balance(stack: Stack, address: str) -> int:
    return int(stack.contract("ParticipationToken").functions.balanceOf(address).call())
