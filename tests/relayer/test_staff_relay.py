"""Staff requests through the real relayer on a real anvil: prepared (simulated, refused when the
chain would revert), signed by the member, verified, queued, sent through StaffForwarder.executeBatch
and settled by (signer, nonce). The called contract's event names the member, never the relayer."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.compile import compile_contracts
from ledger.db import read_scope, session_scope
from ledger.deploy import DEFAULT_PLOGGING_BOUNDS, ROLE, Deployment
from ledger.errors import (
    InvalidActionError,
    InvalidSignatureError,
    PolicyViolationError,
    UnsupportedActionError,
)
from ledger.kinds import staff
from ledger.relayer import Relayer
from ledger.relayer.policy import TargetPolicy
from ledger.settings import Settings
from ledger.staff_actions import StaffCallRefusedError, accept_call, prepare_call, verify_call

from .conftest import Rig
from .proxy import Fault, Proxy

ROOT = Path(__file__).resolve().parents[2]
LEDGER = (
    "ParticipationToken",
    "PloggingRegistry",
    "FeedbackBox",
    "CommunityRewards",
    "ActionBatcher",
    "EnrolmentRegistry",
)


class Staff:
    """A chain helper: the admin (deployer), role grants, events, and members' signed requests."""

    def __init__(self, settings: Settings, deployment: Deployment) -> None:
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc))
        self.settings = settings
        self.deployment = deployment
        self.admin: LocalAccount = settings.deployer()
        self.contracts = {n: c.address for n, c in deployment.contracts.items()}
        self.abis = {n: c.abi for n, c in deployment.contracts.items()}

    def transact(self, name: str, function: str, *args: Any) -> None:
        contract = self.w3.eth.contract(address=self.contracts[name], abi=self.abis[name])
        tx = getattr(contract.functions, function)(*args).build_transaction(
            {
                "from": self.admin.address,
                "nonce": self.w3.eth.get_transaction_count(self.admin.address, "pending"),
                "gas": 300_000,
                "chainId": self.deployment.chain_id,
            }
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(self.admin.sign_transaction(tx).raw_transaction)
        )
        assert receipt["status"] == 1

    def member(self, *grants: tuple[str, str]) -> LocalAccount:
        account: LocalAccount = Account.create()
        for name, role in grants:
            self.transact(name, "grantRole", ROLE[role], account.address)
        return account

    def prepare(self, rig: Rig, who: str, contract: str, function: str, args: list[Any]) -> dict[str, Any]:
        with read_scope(rig.engine) as s:
            return prepare_call(
                session=s,
                rpc=rig.node,
                chain_id=self.deployment.chain_id,
                contracts=self.contracts,
                abis=self.abis,
                staff=who,
                contract=contract,
                function=function,
                args=args,
                now=int(time.time()),
                ttl=3600,
            )

    def submit(self, rig: Rig, account: LocalAccount, typed: dict[str, Any]) -> str:
        signature = Account.sign_typed_data(account.key, full_message=typed).signature.to_0x_hex()
        action = verify_call(
            typed,
            signature,
            chain_id=self.deployment.chain_id,
            contracts=self.contracts,
            now=int(time.time()),
        )
        with session_scope(rig.engine) as s:
            return accept_call(session=s, action=action).id

    def act(self, rig: Rig, account: LocalAccount, contract: str, function: str, args: list[Any]) -> str:
        return self.submit(rig, account, self.prepare(rig, account.address, contract, function, args))

    def receipt(self, tx_hash: str) -> Any:
        return self.w3.eth.get_transaction_receipt(tx_hash)

    def events(self, tx_hash: str, name: str, event: str) -> list[Any]:
        contract = self.w3.eth.contract(address=self.contracts[name], abi=self.abis[name])
        handle = contract.events[event]()
        topic = bytes.fromhex(handle.topic[2:])
        return [
            handle.process_log(log)
            for log in self.receipt(tx_hash)["logs"]
            if log["address"] == self.contracts[name] and bytes(log["topics"][0]) == topic
        ]


@pytest.fixture(scope="module")
def chain(settings: Settings, deployment: Deployment) -> Staff:
    return Staff(settings, deployment)


@pytest.fixture(autouse=True)
def _isolated(chain: Staff) -> Iterator[None]:
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def _row(rig: Rig, action_id: str) -> Any:
    [row] = rig.rows(
        "SELECT status, tx_hash, block_number, log_index, error FROM action WHERE id = :i", i=action_id
    )
    return row


def _bounds(per_day: int) -> list[int]:
    return [*DEFAULT_PLOGGING_BOUNDS[:-1], per_day]


# --- the allow-list is the contracts' staff functions


def test_the_allow_list_is_every_staff_function_of_the_sources_and_the_abis() -> None:
    artifacts = compile_contracts()
    only_role = re.compile(r"function\s+(\w+)\s*\([^)]*\)[^{;]*?onlyRole\((\w+)\)", re.S)
    found: dict[str, str] = {}
    for source in (ROOT / "contracts").glob("*.sol"):
        for name, role in only_role.findall(source.read_text()):
            found[name] = role
    listed = {f.name: f.role for f in staff.STAFF_FUNCTIONS if f.role != "DEFAULT_ADMIN_ROLE"}
    assert set(found) == set(listed) | set(staff.EXCLUDED), (
        "an onlyRole function is neither listed nor excluded"
    )
    assert {n: found[n] for n in listed} == listed
    for spec in staff.STAFF_FUNCTIONS:
        abi = artifacts[spec.contract].abi
        signatures = {
            f"{i['name']}({','.join(_canonical(p) for p in i['inputs'])})"
            for i in abi
            if i["type"] == "function"
        }
        assert spec.signature in signatures, spec
    assert {f.contract for f in staff.STAFF_FUNCTIONS} == set(LEDGER)


def _canonical(p: dict[str, Any]) -> str:
    if p["type"].startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in p["components"]) + ")" + p["type"][5:]
    return str(p["type"])


# --- prepare and verify


def test_a_member_without_the_role_is_refused_at_prepare_and_nothing_is_sent(
    make_rig: Callable[..., Rig], chain: Staff
) -> None:
    rig = make_rig()
    stranger = chain.member()
    before = rig.chain_nonce()
    with pytest.raises(StaffCallRefusedError) as refused:
        chain.prepare(rig, stranger.address, "PloggingRegistry", "setBounds", [_bounds(5)])
    assert refused.value.error is not None and refused.value.error.name == "AccessControlUnauthorizedAccount"
    assert "lacks POLICY_ROLE" in refused.value.message
    assert stranger.address in refused.value.message
    rig.relayer.tick()
    assert rig.chain_nonce() == before and rig.rows("SELECT id FROM action") == []


def test_prepare_refuses_what_is_not_a_staff_call(make_rig: Callable[..., Rig], chain: Staff) -> None:
    rig = make_rig()
    admin = chain.admin.address
    for contract, function, args, field in (
        ("ParticipationToken", "mint", [admin, 1], "function"),
        ("PloggingRegistry", "recordBatch", [[]], "function"),
        ("Nowhere", "verify", ["0x" + "00" * 32], "contract"),
    ):
        with pytest.raises(UnsupportedActionError) as refused:
            chain.prepare(rig, admin, contract, function, args)
        assert refused.value.field == field
    for args, field in (([[1, 2]], "args.0"), (["0x12"], "args.0"), ([_bounds(5), 1], "args")):
        with pytest.raises(InvalidActionError) as bad:
            chain.prepare(rig, admin, "PloggingRegistry", "setBounds", args)
        assert bad.value.field is not None and bad.value.field.startswith(field)


def test_verify_takes_exactly_what_prepare_made(make_rig: Callable[..., Rig], chain: Staff) -> None:
    rig = make_rig()
    typed = chain.prepare(rig, chain.admin.address, "PloggingRegistry", "setBounds", [_bounds(6)])
    signature = Account.sign_typed_data(chain.admin.key, full_message=typed).signature.to_0x_hex()
    ok = verify_call(
        typed, signature, chain_id=chain.deployment.chain_id, contracts=chain.contracts, now=int(time.time())
    )
    assert ok.kind == "staff" and ok.resident == chain.admin.address
    assert ok.contract == chain.contracts["StaffForwarder"]
    assert ok.id == staff.request_id(
        chain.deployment.chain_id, chain.contracts["StaffForwarder"], typed["message"]
    )

    def refused(changed: dict[str, Any], sig: str = signature) -> Exception:
        with pytest.raises((InvalidActionError, InvalidSignatureError, UnsupportedActionError)) as caught:
            verify_call(
                changed,
                sig,
                chain_id=chain.deployment.chain_id,
                contracts=chain.contracts,
                now=int(time.time()),
            )
        return caught.value

    domain = {**typed["domain"], "name": "Other"}
    assert refused({**typed, "domain": domain}).field == "typedData.domain.name"  # type: ignore[attr-defined]
    mint = "0x40c10f19" + "00" * 64  # ParticipationToken.mint: not a staff function
    other = {
        **typed,
        "message": {**typed["message"], "to": chain.contracts["ParticipationToken"], "data": mint},
    }
    assert refused(other).field == "typedData.message.data"  # type: ignore[attr-defined]
    impostor = Account.create()
    forged = Account.sign_typed_data(impostor.key, full_message=typed).signature.to_0x_hex()
    assert refused(typed, forged).field == "signature"  # type: ignore[attr-defined]
    extra = {**typed, "message": {**typed["message"], "extra": 1}}
    assert refused(extra).field.startswith("typedData.message")  # type: ignore[attr-defined]


def test_the_policy_checks_the_requests_inside_a_forwarder_call(chain: Staff, settings: Settings) -> None:
    policy = TargetPolicy(chain.deployment, [])
    key = settings.relayers()[0].address
    forwarder = chain.contracts["StaffForwarder"]
    message = {
        "from": chain.admin.address,
        "to": chain.contracts["PloggingRegistry"],
        "value": 0,
        "gas": 100_000,
        "nonce": 0,
        "deadline": 2**40,
        "data": "0x" + staff.STAFF_FUNCTIONS[2].selector.hex() + "00" * 32,
    }
    sig = b"\x01" * 65
    policy.check(sender=key, to=forwarder, data=staff.encode_execute_batch([(message, sig)], key))
    with pytest.raises(PolicyViolationError):  # the refund receiver must be the key itself
        policy.check(
            sender=key, to=forwarder, data=staff.encode_execute_batch([(message, sig)], chain.admin.address)
        )
    mint = {**message, "to": chain.contracts["ParticipationToken"], "data": "0x40c10f19" + "00" * 64}
    with pytest.raises(PolicyViolationError):
        policy.check(
            sender=key, to=forwarder, data=staff.encode_execute_batch([(message, sig), (mint, sig)], key)
        )


# --- relayed


def test_a_granted_member_acts_as_themselves(make_rig: Callable[..., Rig], chain: Staff) -> None:
    rig = make_rig()
    manager = chain.member(("CommunityRewards", "PARTNER_MANAGER_ROLE"))
    partner = Account.create().address
    action_id = chain.act(
        rig, manager, "CommunityRewards", "setPartner", [partner, False, 2**40, "0x" + "ab" * 32]
    )
    policy_id = chain.act(rig, chain.admin, "PloggingRegistry", "setBounds", [_bounds(7)])
    rig.run_until(rig.all_final([action_id, policy_id]))
    status, tx_hash, block, log_index, error = _row(rig, action_id)
    assert (status, error) == ("confirmed", None) and block is not None and log_index is not None
    [event] = chain.events(tx_hash, "CommunityRewards", "PartnerSet")
    assert event["args"]["by"] == manager.address != rig.key.address
    assert event["args"]["partner"] == partner
    assert _row(rig, policy_id)[0] == "confirmed"
    [bounds] = chain.events(_row(rig, policy_id)[1], "PloggingRegistry", "PloggingBoundsUpdated")
    assert bounds["args"]["by"] == chain.admin.address
    receipt = chain.receipt(tx_hash)
    assert receipt["from"] == rig.key.address and receipt["to"] == chain.contracts["StaffForwarder"]
    executed = [e for e in map(staff.decode_executed, json.loads(Web3.to_json(receipt["logs"]))) if e]
    assert staff.ExecutedRequest(manager.address, 0, True) in executed


def test_one_members_requests_go_in_one_batch_in_nonce_order(
    make_rig: Callable[..., Rig], chain: Staff
) -> None:
    rig = make_rig()
    policy = chain.member(("FeedbackBox", "POLICY_ROLE"))
    ids = [
        chain.act(rig, policy, "FeedbackBox", "setCategory", [40 + i, True, f"topic {i}"]) for i in range(4)
    ]
    nonces = [r[0] for r in rig.rows("SELECT nonce FROM action ORDER BY created_at")]
    assert nonces == [0, 1, 2, 3]
    rig.run_until(rig.all_final(ids))
    rows = [_row(rig, i) for i in ids]
    assert {r[0] for r in rows} == {"confirmed"} and len({r[1] for r in rows}) == 1
    assert [r[3] for r in rows] == sorted(r[3] for r in rows)  # log order = nonce order
    events = chain.events(rows[0][1], "FeedbackBox", "FeedbackCategorySet")
    assert [e["args"]["category"] for e in events] == [40, 41, 42, 43]
    assert {e["args"]["by"] for e in events} == {policy.address}


def test_a_failing_request_fails_alone_and_its_members_later_ones_with_it(
    make_rig: Callable[..., Rig], chain: Staff
) -> None:
    rig = make_rig()
    doomed = chain.member(("CommunityRewards", "PARTNER_MANAGER_ROLE"))
    other = chain.member(("CommunityRewards", "PARTNER_MANAGER_ROLE"))
    partner = Account.create().address
    first = chain.act(
        rig, doomed, "CommunityRewards", "setPartner", [partner, False, 2**40, "0x" + "01" * 32]
    )
    # simulated after the queued first one: the partner it removes exists by then
    second = chain.act(rig, doomed, "CommunityRewards", "removePartner", [partner])
    fine = chain.act(
        rig,
        other,
        "CommunityRewards",
        "setPartner",
        [Account.create().address, True, 2**40, "0x" + "02" * 32],
    )
    # prepared while they held the role; revoked before the relayer sends anything
    chain.transact("CommunityRewards", "revokeRole", ROLE["PARTNER_MANAGER_ROLE"], doomed.address)
    before = staff.next_nonce(rig.node, chain.contracts["StaffForwarder"], doomed.address)
    rig.run_until(rig.all_final([first, second, fine]))
    assert _row(rig, fine)[0] == "confirmed"
    status, tx_hash, _, _, error = _row(rig, first)
    assert (status, tx_hash) == ("failed", None)
    assert (
        "AccessControlUnauthorizedAccount" in error
        and f"{doomed.address} lacks PARTNER_MANAGER_ROLE" in error
    )
    status, _, _, _, error = _row(rig, second)
    assert status == "failed" and error.startswith("an earlier request of this staff member (nonce 0) failed")
    assert "sign again" in error
    assert (
        staff.next_nonce(rig.node, chain.contracts["StaffForwarder"], doomed.address) == before
    )  # never sent


def test_a_request_executed_by_someone_else_is_found_by_its_digest(
    make_rig: Callable[..., Rig], chain: Staff
) -> None:
    rig = make_rig()
    typed = chain.prepare(rig, chain.admin.address, "PloggingRegistry", "setBounds", [_bounds(8)])
    signature = Account.sign_typed_data(chain.admin.key, full_message=typed).signature
    action_id = chain.submit(rig, chain.admin, typed)
    # the member (or anyone) submits their signed request to the forwarder themselves first
    data = staff.encode_execute(typed["message"], bytes(signature))
    forwarder = chain.contracts["StaffForwarder"]
    tx = {
        "from": chain.admin.address,
        "to": forwarder,
        "data": data,
        "gas": 400_000,
        "nonce": chain.w3.eth.get_transaction_count(chain.admin.address, "pending"),
        "gasPrice": chain.w3.eth.gas_price,
        "chainId": chain.deployment.chain_id,
    }
    own = chain.w3.eth.send_raw_transaction(chain.admin.sign_transaction(tx).raw_transaction)
    chain.w3.eth.wait_for_transaction_receipt(own)
    rig.run_until(rig.all_final([action_id]))
    status, tx_hash, *_ = _row(rig, action_id)
    assert (status, tx_hash) == ("confirmed", own.to_0x_hex())
    assert rig.chain_nonce() == 0 or rig.rows("SELECT COUNT(*) FROM relay_tx WHERE kind = 'staff'")[0][0] == 0


class _Crash(BaseException):
    """The process dies here (not an Exception: nothing in the relayer catches it)."""


def test_a_crash_before_or_after_broadcast_loses_and_doubles_nothing(
    make_rig: Callable[..., Rig], chain: Staff, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for crash in ("stored, not sent", "sent, the answer lost"):
        proxy = Proxy(settings.rpc)
        rig = make_rig(rpc_url=proxy.url)
        member = chain.member(("FeedbackBox", "POLICY_ROLE"))
        ids = [chain.act(rig, member, "FeedbackBox", "setAcceptedReward", [10 + i]) for i in range(2)]
        if crash == "stored, not sent":
            with monkeypatch.context() as m:
                m.setattr(rig.relayer, "_send", lambda *a, **k: (_ for _ in ()).throw(_Crash()))
                with pytest.raises(_Crash):
                    rig.relayer.tick()
        else:
            proxy.add("eth_sendRawTransaction", Fault("forward-then-error", message="connection reset"))
            with pytest.raises(_Crash):
                rig.relayer.tick()
                raise _Crash()
        assert rig.statuses(ids) == {"submitted": 2}
        rig.relayer.close()
        rig.relayer = Relayer(
            engine=rig.engine,
            rpc=rig.rpc,
            deployment=chain.deployment,
            settings=rig.settings,
            accounts=[rig.key],
        )
        rig.run_until(rig.all_final(ids))
        assert [_row(rig, i)[0] for i in ids] == ["confirmed", "confirmed"]
        assert staff.next_nonce(rig.node, chain.contracts["StaffForwarder"], member.address) == 2
        executed = rig.node.call(
            "eth_getLogs",
            [
                {
                    "address": chain.contracts["StaffForwarder"],
                    "topics": [staff.BATCH.recorded_topic, "0x" + member.address[2:].lower().rjust(64, "0")],
                    "fromBlock": hex(chain.deployment.start_block),
                    "toBlock": "latest",
                }
            ],
        )
        assert len(executed) == 2, crash  # each request ran exactly once
        assert rig.rows("SELECT COUNT(*) FROM relay_tx WHERE kind = 'staff'")[0][0] == 1
        proxy.close()
