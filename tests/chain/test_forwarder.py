"""Staff act as themselves, on a real anvil: a staff member without gas signs a `ForwardRequest`
(ledger.kinds.staff), the relayer submits it through the StaffForwarder, and the ledger contract
authorizes the signer's role and names the signer in its event. Python's typed data and digest are
the forwarder's own; a signer without the role is refused; an invalid request is skipped."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from ledger.chain.rpc import HttpRpc
from ledger.deploy import CONTRACTS, DEFAULT_PLOGGING_BOUNDS, ROLE, Deployment
from ledger.errors import InvalidActionError, RpcError
from ledger.kinds import FEEDBACK, staff
from ledger.models import Action
from ledger.node import AnvilNode
from ledger.settings import Settings

LEDGER = [name for name in CONTRACTS if name != staff.FORWARDER]
FAILED_CALL = keccak(b"FailedCall()")[:4]
EXPIRED = keccak(b"ERC2771ForwarderExpiredRequest(uint48)")[:4]
DELEGATECALL, CALLCODE, SSTORE = 0xF4, 0xF2, 0x55


class Chain:
    """The deployment on the test anvil, with the deployer (the admin) and the first relayer key."""

    def __init__(self, anvil: AnvilNode, deployment: Deployment, settings: Settings, rpc: HttpRpc) -> None:
        self.w3 = Web3(Web3.HTTPProvider(anvil.url))
        self.deployment = deployment
        self.rpc = rpc
        self.chain_id = deployment.chain_id
        self.admin = settings.deployer()
        self.relayer = settings.relayers()[0]
        self.forwarder = deployment.address(staff.FORWARDER)

    def contract(self, name: str) -> Any:
        c = self.deployment.contracts[name]
        return self.w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi)

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def send(self, account: LocalAccount, to: str, data: bytes, gas: int = 3_000_000) -> Any:
        tx = {
            "from": account.address,
            "to": Web3.to_checksum_address(to),
            "data": data,
            "gas": gas,
            "gasPrice": self.w3.eth.gas_price,
            "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
            "chainId": self.chain_id,
        }
        signed = account.sign_transaction(tx)
        return self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        )

    def transact(self, account: LocalAccount, name: str, function: str, *args: Any) -> Any:
        call = getattr(self.contract(name).functions, function)(*args)
        receipt = self.send(
            account, self.deployment.address(name), bytes.fromhex(call._encode_transaction_data()[2:])
        )
        assert receipt["status"] == 1, f"{name}.{function} reverted"
        return receipt

    def calldata(self, name: str, function: str, *args: Any) -> bytes:
        data: str = getattr(self.contract(name).functions, function)(*args)._encode_transaction_data()
        return bytes.fromhex(data[2:])

    def sign_request(
        self, account: LocalAccount, name: str, data: bytes, **fields: Any
    ) -> tuple[dict[str, Any], bytes]:
        """`account`'s signed request to call contract `name` with `data`, as a wallet signs it."""
        typed = staff.prepare(
            self.rpc,
            chain_id=self.chain_id,
            forwarder=self.forwarder,
            staff=account.address,
            to=self.deployment.address(name),
            data=data,
            now=self.now(),
            ttl=3_600,
        )
        typed["message"].update(fields)
        signature = Account.sign_typed_data(account.key, full_message=typed).signature
        return typed["message"], bytes(signature)

    def relay(self, items: list[tuple[dict[str, Any], bytes]]) -> Any:
        """The relayer submits `items` in one executeBatch, naming itself refund receiver."""
        receipt = self.send(
            self.relayer, self.forwarder, staff.encode_execute_batch(items, self.relayer.address)
        )
        assert receipt["status"] == 1
        return receipt

    def executed(self, receipt: Any) -> list[staff.ExecutedRequest]:
        found = [staff.decode_executed(log) for log in receipt["logs"]]
        return [e for e in found if e is not None]

    def logs_of(self, receipt: Any, name: str, event: str) -> list[Any]:
        """`name`'s `event` logs in `receipt`, decoded (the forwarder's and others' skipped)."""
        handle = self.contract(name).events[event]()
        address, topic = self.deployment.address(name).lower(), bytes.fromhex(handle.topic[2:])
        return [
            handle.process_log(log)
            for log in receipt["logs"]
            if log["address"].lower() == address and bytes(log["topics"][0]) == topic
        ]

    def grant(self, name: str, role: str, account: str) -> None:
        self.transact(self.admin, name, "grantRole", ROLE[role], account)


@pytest.fixture(scope="module")
def chain(anvil: AnvilNode, deployment: Deployment, settings: Settings, rpc: HttpRpc) -> Chain:
    return Chain(anvil, deployment, settings, rpc)


@pytest.fixture(autouse=True)
def _isolated(rpc: HttpRpc, deployment: Deployment) -> Iterator[None]:
    snapshot = rpc.call("evm_snapshot")
    yield
    assert rpc.call("evm_revert", [snapshot])


def _staff_member() -> LocalAccount:
    account: LocalAccount = Account.create()
    return account


def _bounds(sessions_per_day: int) -> tuple[int, ...]:
    return (*DEFAULT_PLOGGING_BOUNDS[:-1], sessions_per_day)


# --- the typed data is the forwarder's


addresses = st.binary(min_size=20, max_size=20).map(lambda b: Web3.to_checksum_address(b))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sender=addresses,
    to=addresses,
    gas=st.integers(0, staff.MAX_REQUEST_GAS),
    nonce=st.integers(0, 2**256 - 1),
    deadline=st.integers(0, staff.UINT48_MAX),
    data=st.binary(min_size=4, max_size=300),
)
def test_python_digest_and_typed_data_are_the_forwarders(
    chain: Chain, sender: str, to: str, gas: int, nonce: int, deadline: int, data: bytes
) -> None:
    request = {
        "from": sender,
        "to": to,
        "gas": gas,
        "nonce": nonce,
        "deadline": deadline,
        "data": "0x" + data.hex(),
    }
    typed = staff.typed_data(chain.chain_id, chain.forwarder, request)
    signable = encode_typed_data(full_message=typed)
    generic = keccak(b"\x19" + signable.version + signable.header + signable.body)
    on_chain = (
        chain.contract(staff.FORWARDER)
        .functions.forwardRequestDigest((sender, to, 0, gas, nonce, deadline, data))
        .call()
    )
    assert staff.digest(chain.chain_id, chain.forwarder, request) == on_chain == generic


def test_domain_type_and_verify_match_the_forwarder(chain: Chain) -> None:
    forwarder = chain.contract(staff.FORWARDER).functions
    _, name, version, chain_id, verifying, _, _ = forwarder.eip712Domain().call()
    assert {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying} == (
        staff.domain(chain.chain_id, chain.forwarder)
    )
    assert forwarder.DOMAIN_SEPARATOR().call() == staff.domain_separator(chain.chain_id, chain.forwarder)
    assert forwarder.FORWARD_REQUEST_TYPE().call() == staff.FORWARD_REQUEST_TYPE
    member = _staff_member()
    message, signature = chain.sign_request(
        member, "PloggingRegistry", chain.calldata("PloggingRegistry", "setBounds", _bounds(9))
    )
    assert staff.signer(chain.chain_id, chain.forwarder, message, "0x" + signature.hex()) == member.address
    assert forwarder.verify(staff.request_data(message, signature)).call() is True
    check = staff.BATCH.check_selector + encode(
        [staff.REQUEST_DATA_TYPE], [staff.request_data(message, signature)]
    )
    reply = chain.rpc.call("eth_call", [{"to": chain.forwarder, "data": "0x" + check.hex()}, "latest"])
    assert staff.BATCH.decode_verified(reply) is True
    forged = {**message, "from": _staff_member().address}
    assert forwarder.verify(staff.request_data(forged, signature)).call() is False


# --- staff act as themselves


def test_a_staff_member_without_gas_sets_the_bounds_as_themselves(chain: Chain) -> None:
    member = _staff_member()
    chain.grant("PloggingRegistry", "POLICY_ROLE", member.address)
    message, signature = chain.sign_request(
        member, "PloggingRegistry", chain.calldata("PloggingRegistry", "setBounds", _bounds(9))
    )
    receipt = chain.relay([(message, signature)])
    assert chain.executed(receipt) == [staff.ExecutedRequest(member.address, 0, True)]
    (updated,) = chain.logs_of(receipt, "PloggingRegistry", "PloggingBoundsUpdated")
    assert updated.args.by == member.address
    assert receipt["from"] == chain.relayer.address  # the relayer paid
    assert chain.w3.eth.get_balance(member.address) == 0
    assert chain.contract("PloggingRegistry").functions.bounds().call()[-1] == 9
    assert staff.next_nonce(chain.rpc, chain.forwarder, member.address) == 1


def test_a_moderator_hides_feedback_as_themselves(chain: Chain) -> None:
    resident = _staff_member()  # a resident signs the feedback the relayer records first
    feedback = {
        "resident": resident.address,
        "category": 1,
        "areaCode": 41_110,
        "contentHash": "0x" + os.urandom(32).hex(),
        "nonce": 0,
        "deadline": chain.now() + 3_600,
    }
    box = chain.deployment.address("FeedbackBox")
    signature = Account.sign_typed_data(
        resident.key, full_message=FEEDBACK.typed_data(chain.chain_id, box, feedback)
    ).signature
    entry = (
        tuple(bytes.fromhex(v[2:]) if k == "contentHash" else v for k, v in feedback.items()),
        bytes(signature),
    )
    chain.transact(chain.relayer, "FeedbackBox", "submitBatch", [entry])
    item = chain.contract("FeedbackBox").functions.itemCount().call()

    moderator = _staff_member()
    chain.grant("FeedbackBox", "MODERATOR_ROLE", moderator.address)
    message, signed = chain.sign_request(
        moderator, "FeedbackBox", chain.calldata("FeedbackBox", "moderate", item, True, 3)
    )
    receipt = chain.send(chain.relayer, chain.forwarder, staff.encode_execute(message, signed))
    assert receipt["status"] == 1
    (moderated,) = chain.logs_of(receipt, "FeedbackBox", "FeedbackModerated")
    assert (moderated.args.itemId, moderated.args.moderator, moderated.args.hidden) == (
        item,
        moderator.address,
        True,
    )
    assert chain.executed(receipt) == [staff.ExecutedRequest(moderator.address, 0, True)]


def test_the_relayers_batch_kind_encodes_stored_requests(chain: Chain) -> None:
    """`staff.BATCH` as the relayer would use it: stored actions in, one executeBatch out."""
    members = [_staff_member() for _ in range(3)]
    for m in members:
        chain.grant("CommunityRewards", "PARTNER_MANAGER_ROLE", m.address)
    actions = []
    for i, m in enumerate(members):
        data = chain.calldata("CommunityRewards", "setCause", 10 + i, m.address, True, bytes(32))
        message, signature = chain.sign_request(m, "CommunityRewards", data)
        actions.append(
            Action(
                id=staff.request_id(chain.chain_id, chain.forwarder, message),
                kind="staff",
                contract=chain.forwarder,
                resident=m.address,
                nonce=message["nonce"],
                deadline=message["deadline"],
                message=json.dumps(message),
                signature="0x" + signature.hex(),
                created_at=time.time(),
                updated_at=time.time(),
            )
        )
    kind = staff.BATCH.for_relayer(chain.relayer.address)
    assert kind.encode_batch(actions) == staff.encode_execute_batch(
        [(json.loads(a.message), bytes.fromhex(a.signature[2:])) for a in actions], chain.relayer.address
    )
    receipt = chain.send(chain.relayer, chain.forwarder, kind.encode_batch(actions))
    assert [e.signer for e in chain.executed(receipt) if e.success] == [m.address for m in members]
    assert [log.args.by for log in chain.logs_of(receipt, "CommunityRewards", "CauseSet")] == [
        m.address for m in members
    ]
    with pytest.raises(ValueError, match="refund receiver"):
        staff.BATCH.encode_batch(actions)


# --- refusals


def test_a_staff_member_without_the_role_is_refused(chain: Chain) -> None:
    member, outsider = _staff_member(), _staff_member()
    chain.grant("PloggingRegistry", "POLICY_ROLE", member.address)
    refused = chain.sign_request(
        outsider, "PloggingRegistry", chain.calldata("PloggingRegistry", "setBounds", _bounds(7))
    )
    allowed = chain.sign_request(
        member, "PloggingRegistry", chain.calldata("PloggingRegistry", "setBounds", _bounds(9))
    )
    # Alone through execute, the inner revert reverts the call (and keeps the nonce).
    with pytest.raises(RpcError) as exc:
        chain.rpc.call(
            "eth_call",
            [
                {
                    "from": chain.relayer.address,
                    "to": chain.forwarder,
                    "data": "0x" + staff.encode_execute(*refused).hex(),
                }
            ],
        )
    assert str(exc.value.data).startswith("0x" + FAILED_CALL.hex())
    # In a batch with a refund receiver it runs, fails, uses its nonce; the other request goes on.
    receipt = chain.relay([refused, allowed])
    assert chain.executed(receipt) == [
        staff.ExecutedRequest(outsider.address, 0, False),
        staff.ExecutedRequest(member.address, 0, True),
    ]
    assert [log.args.by for log in chain.logs_of(receipt, "PloggingRegistry", "PloggingBoundsUpdated")] == [
        member.address
    ]
    assert staff.next_nonce(chain.rpc, chain.forwarder, outsider.address) == 1


def test_an_invalid_request_is_skipped_and_only_a_zero_refund_receiver_makes_it_fatal(chain: Chain) -> None:
    member = _staff_member()
    chain.grant("PloggingRegistry", "POLICY_ROLE", member.address)
    valid = chain.sign_request(
        member, "PloggingRegistry", chain.calldata("PloggingRegistry", "setBounds", _bounds(9))
    )
    late = chain.sign_request(
        member,
        "PloggingRegistry",
        chain.calldata("PloggingRegistry", "setBounds", _bounds(8)),
        nonce=1,
        deadline=1,
    )
    assert staff.expired(late[0], chain.now()) is not None
    with pytest.raises(ValueError, match="non-zero refund receiver"):
        staff.encode_execute_batch([valid, late], "0x" + "00" * 20)
    requests = [staff.request_data(*valid), staff.request_data(*late)]
    zero = staff.BATCH.selector + encode(
        [f"{staff.REQUEST_DATA_TYPE}[]", "address"], [requests, "0x" + "00" * 20]
    )
    with pytest.raises(RpcError) as exc:
        chain.rpc.call(
            "eth_call", [{"from": chain.relayer.address, "to": chain.forwarder, "data": "0x" + zero.hex()}]
        )
    assert str(exc.value.data).startswith("0x" + EXPIRED.hex())
    receipt = chain.relay([valid, late])
    assert chain.executed(receipt) == [staff.ExecutedRequest(member.address, 0, True)]


def test_a_request_is_refused_when_its_fields_are_out_of_range(chain: Chain) -> None:
    base = {
        "from": chain.admin.address,
        "to": chain.forwarder,
        "gas": 100_000,
        "nonce": 0,
        "deadline": 1,
        "data": "0x12345678",
    }
    for field, value in (
        ("value", 1),
        ("gas", staff.MAX_REQUEST_GAS + 1),
        ("deadline", 2**48),
        ("data", "0x1234"),
        ("data", "0x" + "ab" * (staff.MAX_DATA_BYTES + 1)),
        ("from", "0x" + "ab" * 19),
    ):
        with pytest.raises(InvalidActionError) as exc:
            staff.typed_data(chain.chain_id, chain.forwarder, {**base, field: value})
        assert exc.value.field == f"message.{field}"


# --- no way around the forwarder


def test_every_ledger_contract_trusts_the_forwarder_which_holds_no_role(chain: Chain) -> None:
    roles = [bytes(32), *ROLE.values()]
    for name in LEDGER:
        functions = chain.contract(name).functions
        assert functions.trustedForwarder().call() == chain.forwarder
        assert not any(functions.hasRole(role, chain.forwarder).call() for role in roles), name


def _opcodes(code: bytes) -> Iterator[int]:
    """The opcodes of runtime bytecode, PUSH data skipped, without the CBOR metadata solc appends."""
    code = code[: len(code) - 2 - int.from_bytes(code[-2:], "big")]
    i = 0
    while i < len(code):
        op = code[i]
        yield op
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)


def test_no_ledger_contract_has_a_path_that_forges_a_sender(chain: Chain) -> None:
    """The ERC-2771 + Multicall class (OpenZeppelin, December 2023): a contract that delegatecalls
    itself with calldata of its choosing makes `_msgSender()` read a suffix the forwarder never wrote.
    None of the ledger contracts delegatecalls (or callcodes) anything, and none has a multicall."""
    for name in LEDGER:
        code = bytes(chain.w3.eth.get_code(Web3.to_checksum_address(chain.deployment.address(name))))
        ops = set(_opcodes(code))
        assert SSTORE in ops, name  # the scan reads code (every contract writes its roles)
        assert DELEGATECALL not in ops and CALLCODE not in ops, name
        assert not [
            f for f in chain.deployment.contracts[name].abi if "multicall" in f.get("name", "").lower()
        ]
