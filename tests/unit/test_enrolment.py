"""Enrolment and residents' sign-in in the library, on a real migrated SQLite: party codes, whom a
staff request enrols, `is_enrolled` (mirror, outbox, both), the policy gate, and a resident's
Sign-In with Ethereum (nonce replay, wrong domain, expired, another address's signature)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col

from indexer.models import ENROLMENT
from ledger.db import make_engine, session_scope
from ledger.enrolment import EnrolmentGate, is_enrolled, party_code, party_name
from ledger.enrolment_requests import ENROL, ENROL_BATCH, note_enrolment_requests
from ledger.errors import InvalidActionError, NotEnrolledError, ResidentAuthError
from ledger.kinds import VerifiedAction
from ledger.models import Action
from ledger.outbox import accept_actions
from ledger.resident_sessions import issue_nonce, resolve_session, revoke_session, sign_in
from ledger.siwe import SiweMessage
from migrations import migrate

CHAIN = 31337
DOMAIN = {"domain": "127.0.0.1:8000", "public_url": "http://127.0.0.1:8000", "chain_id": CHAIN}
NOW = 1_750_000_000.0
PARTY = party_code("desk:suwon")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(e)
    yield e
    e.dispose()


def test_party_codes_are_readable_bytes32() -> None:
    assert bytes.fromhex(PARTY[2:]) == b"desk:suwon".ljust(32, b"\0")
    assert party_name(PARTY) == "desk:suwon"
    assert party_name("0x" + "ff" * 32) == "0x" + "ff" * 32  # not one of ours: shown as hex
    for bad in ("", "Desk", "a" * 33, "desk suwon", "-desk", "데스크"):
        with pytest.raises(InvalidActionError):
            party_code(bad)


def _selector(signature: str) -> str:
    from eth_hash.auto import keccak

    return keccak(signature.encode())[:4].hex()


def _staff_request(data: str, n: int = 0) -> VerifiedAction:
    staff = "0x" + "5a" * 20
    message = {
        "from": staff,
        "to": "0x" + "e0" * 20,
        "value": 0,
        "gas": 1,
        "nonce": n,
        "deadline": 9e9,
        "data": data,
    }
    return VerifiedAction(
        id="0x" + f"{n:064x}", kind="staff", contract="0x" + "f0" * 20, resident=staff,  # type: ignore[arg-type]
        nonce=n, deadline=2**40, message=message, signature="0x",
    )  # fmt: skip


def _enrol_call(resident: str) -> str:
    return (
        "0x"
        + _selector(ENROL)
        + encode(["address", "bytes32", "bytes32"], [resident, bytes.fromhex(PARTY[2:]), b"\1" * 32]).hex()
    )


def test_whom_a_staff_request_enrols_and_is_enrolled_from_outbox_and_mirror(engine: Engine) -> None:
    one, two, three = (Account.create().address for _ in range(3))
    batch = "0x" + _selector(ENROL_BATCH) + encode(
        ["(address,bytes32,bytes32)[]"],
        [[(two, bytes.fromhex(PARTY[2:]), b"\2" * 32), (three, b"\3" * 32, b"\0" * 32)]],
    ).hex()  # fmt: skip
    other = "0x" + _selector("withdraw(address,uint16)") + encode(["address", "uint16"], [one, 1]).hex()
    with session_scope(engine) as session:
        for i, data in enumerate((_enrol_call(one), batch, other)):
            action = _staff_request(data, i)
            accept_actions(session=session, actions=[action])
            assert note_enrolment_requests(session=session, action=action, now=NOW) == (1, 2, 0)[i]
        note_enrolment_requests(session=session, action=_staff_request(batch, 1), now=NOW)  # idempotent
    with engine.connect() as conn:
        assert all(is_enrolled(conn, chain_id=CHAIN, resident=r) for r in (one, two, three))
        assert not is_enrolled(conn, chain_id=CHAIN, resident=Account.create().address)
    # the request failed: no longer counted; confirmed in block 7, before the mirror has it: counted
    with session_scope(engine) as session:
        session.execute(
            update(Action).where(col(Action.id) == _staff_request("", 0).id).values(status="failed")
        )
        session.execute(
            update(Action)
            .where(col(Action.id) == _staff_request("", 1).id)
            .values(status="confirmed", block_number=7)
        )
    with engine.begin() as conn:
        assert not is_enrolled(conn, chain_id=CHAIN, resident=one)
        assert is_enrolled(conn, chain_id=CHAIN, resident=two)
        # the mirror has an older record of `two`, withdrawn in block 5: the newer request still counts
        row = {
            "chain_id": CHAIN,
            "party": PARTY,
            "enroller": one,
            "evidence_hash": PARTY,
            "enrolled_tx": PARTY,
        }
        conn.execute(
            insert(ENROLMENT),
            [row | {"resident": two, "enrolled": False, "enrolled_block": 3, "updated_block": 5}],
        )
        assert is_enrolled(conn, chain_id=CHAIN, resident=two)
        # withdrawn in block 9, after the confirmed request: the mirror decides
        conn.execute(update(ENROLMENT).where(ENROLMENT.c.resident == two).values(updated_block=9))
        assert not is_enrolled(conn, chain_id=CHAIN, resident=two)
        # the mirror says enrolled: enrolled, whatever the outbox holds
        conn.execute(
            insert(ENROLMENT),
            [row | {"resident": one, "enrolled": True, "enrolled_block": 3, "updated_block": 3}],
        )
        assert is_enrolled(conn, chain_id=CHAIN, resident=one)


def test_the_gate_refuses_under_enrolled_only_and_remembers_a_yes(engine: Engine) -> None:
    resident = Account.create().address
    EnrolmentGate(engine, chain_id=CHAIN, policy="open").require(resident)  # open: anyone
    gate = EnrolmentGate(engine, chain_id=CHAIN, policy="enrolled", ttl=3600)
    with pytest.raises(NotEnrolledError) as refused:
        gate.require(resident, field="typedData.message.resident")
    assert (refused.value.code, refused.value.status, refused.value.field) == (
        "not_enrolled", 403, "typedData.message.resident",
    )  # fmt: skip
    row = {"chain_id": CHAIN, "resident": resident, "enrolled": True, "party": PARTY, "enroller": resident}
    with engine.begin() as conn:
        conn.execute(
            insert(ENROLMENT),
            [row | {"evidence_hash": PARTY, "enrolled_tx": PARTY, "enrolled_block": 1, "updated_block": 1}],
        )
    gate.require(resident.lower())  # any spelling of the address
    with engine.begin() as conn:
        conn.execute(update(ENROLMENT).values(enrolled=False))
    gate.require(resident)  # remembered for `ttl`
    with pytest.raises(NotEnrolledError):
        EnrolmentGate(engine, chain_id=CHAIN, policy="enrolled", ttl=0).require(resident)


# --- residents' Sign-In with Ethereum


def _signed(session: Session, account: LocalAccount | None = None, **overrides: object) -> tuple[str, str]:
    signer = account or Account.create()
    nonce = issue_nonce(session=session, ttl=300, now=NOW).nonce
    fields: dict[str, object] = {
        "domain": "127.0.0.1:8000", "address": signer.address, "uri": "http://127.0.0.1:8000",
        "chain_id": CHAIN, "nonce": nonce, "issued_at": "2025-06-15T15:05:00Z",
        "expiration_time": "2025-06-15T15:10:00Z",
    }  # fmt: skip
    fields.update(overrides)
    text = SiweMessage(**fields).text()  # type: ignore[arg-type]
    return text, Account.sign_message(encode_defunct(text=text), signer.key).signature.to_0x_hex()


def _refusal(engine: Engine, text: str, signature: str, now: float = NOW) -> str:
    with session_scope(engine) as session, pytest.raises(ResidentAuthError) as refused:
        sign_in(session=session, message=text, signature=signature, ttl=3600, now=now, **DOMAIN)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.status) == ("sign_in_refused", 401)
    return refused.value.reason


def test_a_resident_signs_in_once_per_nonce_and_reads_as_themselves(engine: Engine) -> None:
    account = Account.create()
    with session_scope(engine) as session:
        text, signature = _signed(session, account)
    with session_scope(engine) as session:
        issued = sign_in(session=session, message=text, signature=signature, ttl=3600, now=NOW, **DOMAIN)  # type: ignore[arg-type]
    assert issued.address == account.address
    assert issued.expires_at == NOW + 300 - 100  # never beyond the message's own expiration time
    with session_scope(engine) as session:
        assert resolve_session(session=session, token=issued.token, now=NOW + 1) == account.address
    assert _refusal(engine, text, signature) == "bad_nonce"  # the same message again: replayed
    with session_scope(engine) as session:
        with pytest.raises(ResidentAuthError) as expired:
            resolve_session(session=session, token=issued.token, now=issued.expires_at)
        assert expired.value.code == "not_authenticated"
        assert revoke_session(session=session, token=issued.token, now=NOW + 2)
        with pytest.raises(ResidentAuthError):
            resolve_session(session=session, token=issued.token, now=NOW + 3)
        for token in (None, "", "x" * 300, "unknown"):
            with pytest.raises(ResidentAuthError):
                resolve_session(session=session, token=token, now=NOW)


def test_a_resident_sign_in_is_refused_for_another_domain_expired_or_another_address(engine: Engine) -> None:
    with session_scope(engine) as session:
        wrong_domain = _signed(session, domain="evil.example")
        wrong_uri = _signed(session, uri="https://evil.example")
        wrong_chain = _signed(session, chain_id=1)
        expired = _signed(session)
        text, _ = _signed(session)
    assert _refusal(engine, *wrong_domain) == "wrong_domain"
    assert _refusal(engine, *wrong_uri) == "wrong_uri"
    assert _refusal(engine, *wrong_chain) == "wrong_chain"
    assert _refusal(engine, *expired, now=NOW + 3600) == "expired"
    # signed by someone else than the message's address
    other = Account.sign_message(encode_defunct(text=text), Account.create().key).signature.to_0x_hex()
    assert _refusal(engine, text, other) == "bad_signature"
    assert _refusal(engine, "hello", other) == "malformed_message"
    # an unknown nonce (not issued here), properly signed
    account = Account.create()
    forged = SiweMessage(
        domain="127.0.0.1:8000", address=account.address, uri="http://127.0.0.1:8000", chain_id=CHAIN,
        nonce="notissuedhere123", issued_at="2025-06-15T15:05:00Z",
    ).text()  # fmt: skip
    signature = Account.sign_message(encode_defunct(text=forged), account.key).signature.to_0x_hex()
    assert _refusal(engine, forged, signature) == "bad_nonce"


def test_the_migration_makes_exactly_the_enrolment_and_resident_session_tables(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    mine = ("enrolment", "resident_session", "resident_siwe_nonce", "resident_withdrawal")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, SQLModel.metadata) if any(m in repr(d) for m in mine)]
    assert diffs == []
