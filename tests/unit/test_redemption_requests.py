"""Redemption requests (QR payloads): encode → decode gives back exactly the typed data prepare hands
out, the payload stays short enough for a phone's camera, one spelling per request, and an altered
request fails the same verification as submit; partner API keys are hashed, scoped and revocable."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel

from ledger.db import make_engine
from ledger.errors import ActionError, InvalidActionError, InvalidSignatureError
from ledger.intake import verify_submission
from ledger.kinds.rewards import REDEMPTION
from ledger.partners import (
    PartnerKey,
    PartnerKeyConflictError,
    PartnerKeyInvalidError,
    PartnerKeyRequiredError,
    PartnerKeyRevokedError,
    PartnerKeyScopeError,
    PartnerNotRegisteredError,
    authenticate,
    issue_key,
    list_keys,
    require_scope,
    revoke_key,
)
from ledger.redemption_requests import MAX_REQUEST_CHARS, PREFIX, decode, encode
from ledger.types import checksum

CHAIN = 31337
REWARDS = checksum("0x" + "5f" * 20)
CONTRACTS = {"CommunityRewards": REWARDS}
NOW = 1_750_000_000
KEY = Account.from_key(b"\x02" * 32)
PARTNER = checksum("0x" + "a1" * 20)

addresses = st.binary(min_size=20, max_size=20).map(checksum)
hashes = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
u63 = st.integers(0, 2**63 - 1)
messages = st.fixed_dictionaries(
    {
        "resident": addresses,
        "partner": addresses,
        "amount": st.integers(1, 2**256 - 1),
        "offerHash": hashes,
        "nonce": u63,
        "deadline": u63,
    }
)


def _typed(message: dict[str, Any], chain_id: int = CHAIN, contract: str = REWARDS) -> dict[str, Any]:
    return REDEMPTION.typed_data(chain_id, contract, message)


def _signed(**overrides: Any) -> tuple[dict[str, Any], str]:
    message = {
        "resident": KEY.address,
        "partner": PARTNER,
        "amount": 20,
        "offerHash": "0x" + "c0ffee00" * 8,
        "nonce": 3,
        "deadline": NOW + 600,
        **overrides,
    }
    typed = _typed(message)
    signature = Account.sign_message(encode_typed_data(full_message=typed), KEY.key).signature.to_0x_hex()
    return typed, signature


def _verify(typed: dict[str, Any], signature: str) -> Any:
    return verify_submission(typed, signature, chain_id=CHAIN, contracts=CONTRACTS, now=NOW)


@settings(max_examples=200, deadline=None)
@given(messages, st.integers(1, 2**64 - 1), addresses, st.binary(min_size=65, max_size=256))
def test_decode_gives_back_the_typed_data_and_signature(
    message: dict[str, Any], chain_id: int, contract: str, signature: bytes
) -> None:
    payload = encode(_typed(message, chain_id, contract), "0x" + signature.hex())
    assert payload.startswith(PREFIX) and len(payload) <= MAX_REQUEST_CHARS
    request = decode(payload)
    assert request.typed_data() == _typed(message, chain_id, contract)
    assert list(request.typed_data()["message"]) == [n for n, _ in REDEMPTION.fields]  # prepare's order
    assert request.signature == "0x" + signature.hex()
    assert encode(request.typed_data(), request.signature) == payload  # one spelling per request


def test_an_ecdsa_request_is_short_and_verifies_exactly_as_submit() -> None:
    typed, signature = _signed()
    payload = encode(typed, signature)
    assert len(payload) < 320, len(payload)  # QR version ~10 at medium error correction
    request = decode(payload)
    assert _verify(request.typed_data(), request.signature) == _verify(typed, signature)


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", 21), ("partner", checksum("0x" + "b2" * 20)), ("nonce", 4), ("deadline", NOW + 601)],
)
def test_an_altered_request_fails_the_signature_check(field: str, value: Any) -> None:
    typed, signature = _signed()
    forged = encode(_typed({**typed["message"], field: value}), signature)
    request = decode(forged)
    with pytest.raises(InvalidSignatureError) as refused:
        _verify(request.typed_data(), request.signature)
    assert refused.value.field == "signature"


def _raw(payload: str) -> bytes:
    body = payload[len(PREFIX) :]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _payload(raw: bytes) -> str:
    return PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: "esg:redeem:v2:" + p[len(PREFIX) :],  # another version
        lambda p: p + "=",  # padding
        lambda p: _payload(_raw(p) + b"\x00")[:-1] + "B",  # trailing bits set: not canonical
        lambda p: p[:-40] + ("B" if p[-40] == "A" else "A") + p[-39:],  # the signature's r changed
        lambda p: p[: len(PREFIX) + 40],  # truncated
        lambda p: p.replace(PREFIX, PREFIX + " "),  # whitespace
        lambda p: p + "A" * (MAX_REQUEST_CHARS - len(p) + 1),  # too long
        lambda p: _payload(_raw(p)[:116] + bytes([2, 0, 20]) + _raw(p)[118:]),  # amount with a zero byte
        lambda p: _payload(_raw(p)[:116] + bytes([33]) + _raw(p)[117:]),  # amount longer than 32 bytes
        lambda p: _payload(_raw(p)[:118]),  # no signature
        lambda p: _payload(bytes(8) + _raw(p)[8:]),  # chain id 0
    ],
)
def test_malformed_requests_are_refused_naming_the_request(mangle: Any) -> None:
    typed, signature = _signed()
    payload = encode(typed, signature)
    with pytest.raises(ActionError) as refused:
        request = decode(mangle(payload))
        _verify(request.typed_data(), request.signature)  # a change that still decodes fails here
    assert refused.value.field in ("request", "signature")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: {**t, "primaryType": "Donation"}, "typedData.primaryType"),
        (lambda t: {**t, "domain": {**t["domain"], "name": "Other"}}, "typedData.domain.name"),
        (lambda t: {**t, "domain": {**t["domain"], "chainId": "31337"}}, "typedData.domain.chainId"),
        (lambda t: {**t, "types": {**t["types"], "Extra": []}}, "typedData.types"),
        (lambda t: {**t, "message": {**t["message"], "amount": 0}}, "typedData.message.amount"),
        (lambda t: {**t, "message": {**t["message"], "offerHash": "0x12"}}, "typedData.message.offerHash"),
    ],
)
def test_encode_takes_only_a_redemption_as_prepared(change: Any, field: str) -> None:
    typed, signature = _signed()
    with pytest.raises(InvalidActionError) as refused:
        encode(change(typed), signature)
    assert refused.value.field == field


def test_encode_refuses_a_signature_too_long_for_a_qr_code() -> None:
    typed, _ = _signed()
    with pytest.raises(InvalidActionError) as refused:
        encode(typed, "0x" + "11" * 257)
    assert refused.value.field == "signature"


# --- partner API keys


@pytest.fixture
def session(tmp_path: Any) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    SQLModel.metadata.create_all(engine, tables=[PartnerKey.__table__])  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def _issue(session: Session, scopes: tuple[str, ...] = ("redemptions:accept", "redemptions:read")) -> Any:
    return issue_key(
        session=session,
        chain_id=CHAIN,
        partner=PARTNER.lower(),
        label="Counter 1",
        scopes=scopes,
        registered_until=NOW + 86_400,
        created_by="test",
        now=NOW,
    )


def test_a_key_is_stored_only_as_its_hash_and_authenticates(session: Session) -> None:
    issued = _issue(session)
    session.commit()
    prefix, key_id, secret = issued.secret.split("_", 2)
    assert prefix == "esgp" and key_id == issued.key.id and len(base64.urlsafe_b64decode(secret + "=")) == 32
    row = session.get(PartnerKey, key_id)
    assert row is not None and row.partner == PARTNER
    assert row.secret_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert secret not in str(row.model_dump())
    assert authenticate(session=session, presented=issued.secret, chain_id=CHAIN).id == key_id
    with pytest.raises(PartnerKeyInvalidError):  # the same key id with another secret
        authenticate(session=session, presented=f"esgp_{key_id}_{'A' * 43}", chain_id=CHAIN)
    with pytest.raises(PartnerKeyInvalidError):  # another chain's deployment
        authenticate(session=session, presented=issued.secret, chain_id=CHAIN + 1)
    with pytest.raises(PartnerKeyInvalidError):
        authenticate(
            session=session, presented="esgp_" + keccak(b"x").hex()[:16] + "_" + secret, chain_id=CHAIN
        )
    with pytest.raises(PartnerKeyRequiredError):
        authenticate(session=session, presented=None, chain_id=CHAIN)


def test_scopes_and_revocation(session: Session) -> None:
    reader = _issue(session, ("redemptions:read",))
    session.commit()
    key = authenticate(session=session, presented=reader.secret, chain_id=CHAIN)
    require_scope(key, "redemptions:read")
    with pytest.raises(PartnerKeyScopeError):
        require_scope(key, "redemptions:accept")
    revoke_key(session=session, key_id=reader.key.id, by="0x" + "77" * 20, now=NOW + 5)
    session.commit()
    with pytest.raises(PartnerKeyRevokedError):
        authenticate(session=session, presented=reader.secret, chain_id=CHAIN)
    with pytest.raises(PartnerKeyConflictError):  # a second revoke changes nothing
        revoke_key(session=session, key_id=reader.key.id, by="someone else", now=NOW + 9)
    session.rollback()
    row = session.get(PartnerKey, reader.key.id)
    assert row is not None and (row.revoked_at, row.revoked_by) == (NOW + 5, "0x" + "77" * 20)
    assert list_keys(session=session, chain_id=CHAIN, revoked=True)[1] == 1
    assert list_keys(session=session, chain_id=CHAIN, revoked=False)[1] == 0


@pytest.mark.parametrize("registered_until", [None, NOW, NOW - 1])
def test_no_key_for_an_unregistered_or_expired_partner(
    session: Session, registered_until: int | None
) -> None:
    with pytest.raises(PartnerNotRegisteredError):
        issue_key(
            session=session,
            chain_id=CHAIN,
            partner=PARTNER,
            label="x",
            scopes=["redemptions:read"],
            registered_until=registered_until,
            created_by="test",
            now=NOW,
        )
    assert list_keys(session=session, chain_id=CHAIN)[1] == 0


@pytest.mark.parametrize(("scopes", "label"), [((), "x"), (("admin",), "x"), (("redemptions:read",), "a\nb")])
def test_no_key_with_unknown_scopes_or_a_bad_label(session: Session, scopes: Any, label: str) -> None:
    with pytest.raises(InvalidActionError):
        issue_key(
            session=session,
            chain_id=CHAIN,
            partner=PARTNER,
            label=label,
            scopes=scopes,
            registered_until=NOW + 60,
            created_by="test",
            now=NOW,
        )
