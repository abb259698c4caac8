"""The hand-rolled EIP-712 encoder equals eth-account's generic one, and recovery is strict."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.eip712 import SECP256K1_N, normalize_signature, recover
from ledger.errors import InvalidActionError, InvalidSignatureError
from ledger.kinds import PLOGGING

KEY = Account.from_key(b"\x01" * 32)
u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: Account.from_key(keccak(b)).address)
messages = st.fixed_dictionaries(
    {
        "resident": addresses,
        "distanceMeters": u32,
        "durationSeconds": u32,
        "trashGrams": u32,
        "areaCode": u32,
        "startedAt": u64,
        "evidenceHash": st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()),
        "nonce": u64,
        "deadline": u64,
    }
)
chain_ids = st.integers(1, 2**64)


def _generic_digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


@settings(max_examples=200, deadline=None)
@given(message=messages, chain_id=chain_ids, contract=addresses)
def test_digest_equals_eth_account(message: dict[str, Any], chain_id: int, contract: str) -> None:
    typed = PLOGGING.typed_data(chain_id, contract, message)
    assert PLOGGING.digest(chain_id, contract, message) == _generic_digest(typed)


@settings(max_examples=50, deadline=None)
@given(message=messages, key=st.integers(1, SECP256K1_N - 1))
def test_recover_returns_the_signer(message: dict[str, Any], key: int) -> None:
    account = Account.from_key(key.to_bytes(32, "big"))
    typed = PLOGGING.typed_data(31337, KEY.address, message)
    signature = Account.sign_message(encode_typed_data(full_message=typed), account.key).signature
    digest = PLOGGING.digest(31337, KEY.address, message)
    assert recover(digest, normalize_signature(signature.to_0x_hex())) == account.address


def test_type_string_is_the_contracts() -> None:
    assert PLOGGING.type_string == (
        "PloggingSession(address resident,uint32 distanceMeters,uint32 durationSeconds,uint32 trashGrams,"
        "uint32 areaCode,uint64 startedAt,bytes32 evidenceHash,uint64 nonce,uint64 deadline)"
    )


def _signature(r: int, s: int, v: int) -> str:
    return "0x" + r.to_bytes(32, "big").hex() + s.to_bytes(32, "big").hex() + bytes([v]).hex()


def test_high_s_is_refused() -> None:
    with pytest.raises(InvalidSignatureError, match="lower half"):
        normalize_signature(_signature(1, SECP256K1_N - 1, 27))


def test_v_0_and_1_become_27_and_28() -> None:
    assert normalize_signature(_signature(1, 1, 0))[64] == 27
    assert normalize_signature(_signature(1, 1, 1))[64] == 28
    with pytest.raises(InvalidSignatureError, match="v must be"):
        normalize_signature(_signature(1, 1, 29))


@pytest.mark.parametrize("bad", ["", "0x", "0x12", "12" * 65, "0x" + "zz" * 65])
def test_malformed_signatures_are_refused(bad: str) -> None:
    with pytest.raises((InvalidSignatureError, InvalidActionError)):
        normalize_signature(bad)
