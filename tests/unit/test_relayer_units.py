"""Relayer pieces without a node: fee bumps, the fixed-layout batch encoder, node answers, policy."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.deploy import DeployedContract, Deployment
from ledger.errors import ChainError, PolicyViolationError, RpcError
from ledger.models import Action
from ledger.relayer.broadcast import Outcome, classify
from ledger.relayer.fees import GWEI, Fees, bump, market
from ledger.relayer.kinds import PLOGGING
from ledger.relayer.policy import TargetPolicy

fees = st.builds(Fees, max_fee=st.integers(0, 10**13), tip=st.integers(0, 10**11)).filter(
    lambda f: f.tip <= f.max_fee
)


@given(old=fees, base=st.integers(0, 10**12), cap_gwei=st.integers(1, 10_000))
def test_a_bump_is_at_least_ten_percent_on_both_and_never_above_the_cap(
    old: Fees, base: int, cap_gwei: int
) -> None:
    now = market(base, tip_gwei=1, cap_gwei=cap_gwei)
    new = bump(old, now, cap_gwei=cap_gwei)
    if new is None:
        assert old.max_fee * 11 > cap_gwei * GWEI * 10 or old.tip * 11 > cap_gwei * GWEI * 10
        return
    assert new.max_fee <= cap_gwei * GWEI and new.tip <= new.max_fee
    assert new.max_fee * 10 >= old.max_fee * 11 and new.tip * 10 >= old.tip * 11
    assert new.max_fee >= min(now.max_fee, cap_gwei * GWEI)


def _action(i: int, resident: bytes, signature: bytes, values: tuple[int, ...]) -> Action:
    message = {
        "resident": "0x" + resident.hex(),
        "distanceMeters": values[0],
        "durationSeconds": values[1],
        "trashGrams": values[2],
        "areaCode": values[3],
        "startedAt": values[4],
        "evidenceHash": "0x" + resident.hex() * 1 + "00" * 12,
        "nonce": values[5],
        "deadline": values[6],
    }
    return Action(
        id=f"0x{i:064x}",
        kind="plogging",
        contract="0x",
        resident=message["resident"],
        nonce=values[5],
        deadline=values[6],
        message=json.dumps(message),
        signature="0x" + signature.hex(),
        created_at=0,
        updated_at=0,
    )


u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**63 - 1)


@given(
    st.lists(
        st.tuples(
            st.binary(min_size=20, max_size=20),
            st.binary(min_size=65, max_size=65),
            st.tuples(u32, u32, u32, u32, u64, u64, u64),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_fixed_layout_encoder_equals_eth_abi(items: list[tuple[bytes, bytes, tuple[int, ...]]]) -> None:
    actions = [_action(i, r, s, v) for i, (r, s, v) in enumerate(items)]
    assert PLOGGING.fast_encode is not None
    assert PLOGGING.fast_encode(actions) == PLOGGING.generic_encode(actions)


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        ("already known", Outcome.ACCEPTED),
        ("ALREADY_EXISTS: already known", Outcome.ACCEPTED),
        ("nonce too low", Outcome.NONCE_USED),
        ("replacement transaction underpriced", Outcome.UNDERPRICED),
        ("max fee per gas less than block base fee", Outcome.UNDERPRICED),
        ("intrinsic gas too low", Outcome.REJECTED),
        ("insufficient funds for gas * price + value", Outcome.TRANSIENT),
        ("something new", Outcome.TRANSIENT),
    ],
)
def test_node_answers_are_classified(message: str, outcome: Outcome) -> None:
    assert classify(RpcError("eth_sendRawTransaction", -32000, message)) is outcome


def test_an_unreachable_node_is_transient_and_success_is_accepted() -> None:
    assert classify(ChainError("cannot reach the node")) is Outcome.TRANSIENT
    assert classify(None) is Outcome.ACCEPTED


def test_the_policy_signs_only_allowed_targets_and_selectors() -> None:
    registry = "0x" + "11" * 20
    deployment = Deployment(
        chain_id=1,
        genesis_hash="0x",
        start_block=0,
        deployer="0x",
        contracts={
            "PloggingRegistry": DeployedContract(address=registry, abi=[], tx_hash="0x", block_number=0)
        },
    )
    policy = TargetPolicy(deployment, [])
    sender = "0x" + "22" * 20
    policy.check(sender=sender, to=registry, data=PLOGGING.selector + b"\x00" * 64)
    policy.check(sender=sender, to=sender, data=b"")  # a no-op
    with pytest.raises(PolicyViolationError):
        policy.check(sender=sender, to=registry, data=bytes.fromhex("a9059cbb") + b"\x00" * 64)  # transfer()
    with pytest.raises(PolicyViolationError):
        policy.check(sender=sender, to="0x" + "33" * 20, data=PLOGGING.selector)
    with pytest.raises(PolicyViolationError):
        policy.check(sender=sender, to=sender, data=b"\x01")


def test_a_residents_sessions_go_in_the_order_they_happened_not_their_nonces() -> None:
    # prepared (so numbered) late → early: the contract records a resident's sessions chronologically
    late = _action(1, b"\x01" * 20, b"\x00" * 65, (1000, 600, 10, 1, 2_000_000, 0, 9))
    early = _action(2, b"\x01" * 20, b"\x00" * 65, (1000, 600, 10, 1, 1_000_000, 1, 9))
    other = _action(3, b"\x00" * 20, b"\x00" * 65, (1000, 600, 10, 1, 3_000_000, 0, 9))
    assert sorted([late, early, other], key=PLOGGING.order) == [other, early, late]
