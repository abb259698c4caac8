"""Staff identity in the library, on a real migrated SQLite: invites, sealed keys, password + TOTP
(wrong, replayed, lock-out and its end), sessions (idle, absolute, logout, deactivation), the
sign-in log, role names from the mirror, the development demo account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from sqlalchemy import Engine, insert
from sqlmodel import Session

from indexer.models import ROLE_MEMBER
from indexer.staff_roles import role_holders, staff_roles
from ledger.custody import LocalMasterKey
from ledger.db import make_engine
from ledger.errors import ConfigurationError
from ledger.settings import Settings
from ledger.staff import (
    DEMO_LOGIN,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    ROLE_GRANTS,
    ROLE_NAMES,
    LockoutPolicy,
    SessionPolicy,
    SignInPolicy,
    SignInRefusedError,
    StaffConflictError,
    StaffCredential,
    StaffError,
    StaffForbiddenError,
    StaffKeysUnavailableError,
    StaffLockedError,
    StaffNotAuthenticatedError,
    activate_member,
    deactivate_member,
    invite_member,
    list_signins,
    member_events,
    resolve_session,
    role_hash,
    rotate_totp,
    seed_demo_staff,
    sign_in_with_password,
    sign_typed_data,
    staff_keys,
)
from ledger.staff.keys import unseal
from migrations import migrate

from ..support import free_port

KEYS = LocalMasterKey(os.urandom(32))
T0 = 1_750_000_020.0  # the start of a 30-second TOTP step
POLICY = SignInPolicy(
    sessions=SessionPolicy(idle=60, absolute=600), lockout=LockoutPolicy(failures=5, seconds=120)
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(e)
    yield e
    e.dispose()


def custodial(session: Session, login: str = "kim.ji-woo") -> tuple[int, str, pyotp.TOTP]:
    invitation = invite_member(
        session=session, name="김지우", created_by="test", now=T0, login=login, keys=KEYS
    )
    session.commit()
    assert invitation.password is not None and invitation.totp_uri is not None
    totp = pyotp.parse_uri(invitation.totp_uri)
    assert isinstance(totp, pyotp.TOTP) and invitation.member.id is not None
    return invitation.member.id, invitation.password, totp


def login(session: Session, who: str, password: str, code: str, now: float) -> int:
    member, issued = sign_in_with_password(
        session=session, identifier=who, password=password, totp_code=code, keys=KEYS, policy=POLICY, now=now
    )
    assert issued.token and member.id is not None
    return member.id


def refused(session: Session, who: str, password: str, code: str, now: float) -> str:
    with pytest.raises(SignInRefusedError) as exc:
        login(session, who, password, code, now)
    assert str(exc.value) == "sign-in refused"  # the client never learns which factor was wrong
    return exc.value.reason


def test_invites_seal_a_key_bound_to_the_member(engine: Engine) -> None:
    with Session(engine) as session:
        member_id, _password, _totp = custodial(session)
        wallet = invite_member(
            session=session, name="Lee", created_by="test", now=T0, address="0x" + "ab" * 20
        )
        session.commit()
        assert (wallet.password, wallet.totp_uri, wallet.member.kind) == (None, None, "wallet")
        assert wallet.member.address == to_checksum_address("0x" + "ab" * 20)
        with pytest.raises(StaffConflictError):
            invite_member(session=session, name="Again", created_by="t", now=T0, address="0x" + "AB" * 20)
        session.rollback()
        with pytest.raises(StaffConflictError):
            invite_member(session=session, name="Twin", created_by="t", now=T0, login="kim.ji-woo", keys=KEYS)
        session.rollback()
        with pytest.raises(StaffKeysUnavailableError):
            invite_member(session=session, name="No keys", created_by="t", now=T0, login="nokeys", keys=None)
        with pytest.raises(StaffError, match="login"):
            invite_member(session=session, name="Bad", created_by="t", now=T0, login="A B", keys=KEYS)
        session.rollback()

        member = activate_member(session=session, member_id=member_id, by="test", now=T0)
        credential = session.get(StaffCredential, member_id)
        assert credential is not None
        typed = {
            "types": {
                "EIP712Domain": [{"name": "name", "type": "string"}],
                "Hello": [{"name": "n", "type": "uint256"}],
            },
            "domain": {"name": "test"},
            "primaryType": "Hello",
            "message": {"n": 7},
        }
        signature = sign_typed_data(KEYS, member, credential, typed)
        assert (
            Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
            == member.address
        )
        # The key and the TOTP secret are sealed for this member and this purpose only.
        wallet_member = wallet.member
        with pytest.raises(StaffError):
            unseal(KEYS, "key", wallet_member, credential.key_sealed)
        with pytest.raises(StaffError):
            unseal(KEYS, "totp", member, credential.key_sealed)
        with pytest.raises(StaffError):
            unseal(LocalMasterKey(os.urandom(32)), "key", member, credential.key_sealed)
        assert [e.action for e in member_events(session=session, member_id=member_id)] == [
            "invited",
            "activated",
        ]


def test_password_and_totp_wrong_replayed_then_locked_and_unlocked(engine: Engine) -> None:
    with Session(engine) as session:
        member_id, password, totp = custodial(session)
        step = int(T0 // 30)
        assert (
            refused(session, "kim.ji-woo", password, "000000" if totp.at(T0) != "000000" else "111111", T0)
            == "wrong_totp"
        )
        assert refused(session, "kim.ji-woo", "not the password", totp.at(T0), T0) == "wrong_password"
        assert refused(session, "nobody", password, totp.at(T0), T0) == "unknown_account"
        assert login(session, "kim.ji-woo", password, totp.at(T0), T0 + 1) == member_id  # resets the count
        assert refused(session, "kim.ji-woo", password, totp.at(T0), T0 + 2) == "replayed_totp"
        # The next step's code is good now (one step either side), once; an older one never again.
        assert login(session, "kim.ji-woo", password, totp.at((step + 1) * 30), T0 + 3) == member_id
        assert refused(session, "kim.ji-woo", password, totp.at((step - 1) * 30), T0 + 4) == "replayed_totp"
        assert refused(session, "kim.ji-woo", password, totp.at((step + 3) * 30), T0 + 4) == "wrong_totp"
        # Five failures in a row (two above since the last success) lock the account, right code or not.
        for _ in range(3):
            refused(session, "kim.ji-woo", "wrong", totp.at(T0 + 60), T0 + 5)
        with pytest.raises(StaffLockedError) as locked:
            login(session, "kim.ji-woo", password, totp.at(T0 + 60), T0 + 6)
        assert locked.value.until == pytest.approx(T0 + 5 + 120)
        # After the window the right code works, and the count starts again.
        assert login(session, "kim.ji-woo", password, totp.at(T0 + 150), T0 + 126) == member_id
        rows, total = list_signins(session=session, member_id=member_id)
        reasons = [r.reason for r in reversed(rows)]
        assert reasons == [
            "wrong_totp", "wrong_password", "ok", "replayed_totp", "ok", "replayed_totp", "wrong_totp",
            "wrong_password", "wrong_password", "wrong_password", "locked_out", "ok",
        ]  # fmt: skip
        assert total == len(reasons)
        failures, count = list_signins(session=session, outcome="failure")
        assert count == 10  # nine for her, one for "nobody"
        (nobody,) = [r for r in failures if r.member_id is None]
        assert (nobody.identifier, nobody.reason, nobody.method) == ("nobody", "unknown_account", "password")


def test_sessions_end_idle_absolute_on_logout_and_on_deactivation(engine: Engine) -> None:
    from ledger.staff import revoke_session, touch_session

    with Session(engine) as session:
        member_id, password, totp = custodial(session)
        _, issued = sign_in_with_password(
            session=session, identifier="kim.ji-woo", password=password, totp_code=totp.at(T0), keys=KEYS,
            policy=POLICY, now=T0,
        )  # fmt: skip
        policy = POLICY.sessions
        row, member = resolve_session(session=session, token=issued.token, policy=policy, now=T0 + 59)
        assert (row.id, member.id) == (issued.id, member_id)
        with pytest.raises(StaffNotAuthenticatedError, match="expired"):
            resolve_session(session=session, token=issued.token, policy=policy, now=T0 + 61)
        for t in range(50, 600, 50):  # kept alive, but never beyond the absolute limit
            touch_session(session=session, session_id=issued.id, now=T0 + t)
        resolve_session(session=session, token=issued.token, policy=policy, now=T0 + 599)
        with pytest.raises(StaffNotAuthenticatedError, match="expired"):
            resolve_session(session=session, token=issued.token, policy=policy, now=T0 + 600)
        with pytest.raises(StaffNotAuthenticatedError, match="unknown"):
            resolve_session(session=session, token=issued.token + "x", policy=policy, now=T0)
        assert revoke_session(session=session, session_id=issued.id, now=T0 + 1)
        with pytest.raises(StaffNotAuthenticatedError, match="signed out"):
            resolve_session(session=session, token=issued.token, policy=policy, now=T0 + 2)

        _, second = sign_in_with_password(
            session=session, identifier="kim.ji-woo", password=password, totp_code=totp.at(T0 + 30),
            keys=KEYS, policy=POLICY, now=T0 + 30,
        )  # fmt: skip
        _member, revoked = deactivate_member(session=session, member_id=member_id, by="admin", now=T0 + 31)
        session.commit()
        assert revoked == 1
        with pytest.raises(StaffNotAuthenticatedError):
            resolve_session(session=session, token=second.token, policy=policy, now=T0 + 32)
        with pytest.raises(StaffForbiddenError):  # right password and code, but deactivated
            login(session, "kim.ji-woo", password, totp.at(T0 + 60), T0 + 60)
        assert list_signins(session=session, limit=1)[0][0].reason == "deactivated"


def test_a_rotated_totp_secret_replaces_the_old_one(engine: Engine) -> None:
    with Session(engine) as session:
        member_id, password, old = custodial(session)
        member = activate_member(session=session, member_id=member_id, by="t", now=T0)
        new = pyotp.parse_uri(rotate_totp(session=session, member=member, keys=KEYS, now=T0))
        session.commit()
        # a step where the old code is none of the new codes around it (all but certain at once)
        t = next(
            T0 + 90 * i
            for i in range(100)
            if old.at(T0 + 90 * i) not in {new.at(T0 + 90 * i + d) for d in (-30, 0, 30)}
        )
        assert refused(session, "kim.ji-woo", password, old.at(t), t) == "wrong_totp"
        assert login(session, "kim.ji-woo", password, new.at(t), t) == member_id


def test_role_names_come_from_the_mirror_per_contract(engine: Engine) -> None:
    contracts = {name: "0x" + f"{i:040x}" for i, name in enumerate(
        ["ParticipationToken", "PloggingRegistry", "FeedbackBox", "CommunityRewards", "ActionBatcher"],
        start=1,
    )}  # fmt: skip
    staff = Account.create().address
    rows = [
        ("PloggingRegistry", role_hash("VERIFIER_ROLE"), staff),
        ("CommunityRewards", role_hash("POLICY_ROLE"), staff),
        ("ActionBatcher", role_hash("AUDITOR_ROLE"), staff),
        ("FeedbackBox", role_hash("VERIFIER_ROLE"), staff),  # not where VERIFIER_ROLE means anything
        ("PloggingRegistry", "0x" + "00" * 32, "0x" + "99" * 20),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(ROLE_MEMBER),
            [
                {
                    "chain_id": 7,
                    "contract": contracts[c],
                    "role": r,
                    "account": a,
                    "granted_by": a,
                    "updated_block": 1,
                }
                for c, r, a in rows
            ],
        )
        assert staff_roles(conn, chain_id=7, contracts=contracts, account=staff) == {
            "verifier",
            "policy",
            "auditor",
        }
        assert staff_roles(conn, chain_id=7, contracts=contracts, account=staff.lower()) == {
            "verifier", "policy", "auditor",
        }  # fmt: skip
        assert staff_roles(conn, chain_id=8, contracts=contracts, account=staff) == frozenset()
        assert staff_roles(conn, chain_id=7, contracts=contracts, account="0x" + "99" * 20) == {"admin"}
        assert role_holders(conn, chain_id=7, contracts=contracts, role="admin") == ["0x" + "99" * 20]
    assert tuple(ROLE_GRANTS) == ROLE_NAMES
    assert ROLE_GRANTS["admin"][0][1] == "0x" + "00" * 32
    assert role_hash("VERIFIER_ROLE") == "0x0ce23c3e399818cfee81a7ab0880f714e53d7672b08df0fa62f2843416e1ea09"


def test_the_demo_staff_account_is_for_development_only(tmp_path: Path, engine: Engine) -> None:
    from ledger.deploy import Deployment

    nowhere = f"http://127.0.0.1:{free_port()}"  # no node: the AUDITOR_ROLE grant is skipped, logged
    deployment = Deployment(
        chain_id=31337, genesis_hash="0x" + "00" * 32, start_block=0, deployer="0x" + "00" * 20
    )
    test = Settings(env="test", demo_data=True, data_dir=tmp_path, rpc_url=nowhere, _env_file=None)  # type: ignore[call-arg]
    assert seed_demo_staff(settings=test, engine=engine, deployment=deployment) is None
    dev = Settings(env="development", data_dir=tmp_path, rpc_url=nowhere, _env_file=None)  # type: ignore[call-arg]
    text = seed_demo_staff(settings=dev, engine=engine, deployment=deployment)
    assert text is not None and DEMO_PASSWORD in text and DEMO_TOTP_SECRET in text
    assert seed_demo_staff(settings=dev, engine=engine, deployment=deployment) == text  # once
    with Session(engine) as session:
        member, issued = sign_in_with_password(
            session=session, identifier=DEMO_LOGIN, password=DEMO_PASSWORD,
            totp_code=pyotp.TOTP(DEMO_TOTP_SECRET).now(), keys=staff_keys(dev), policy=POLICY,
            now=__import__("time").time(),
        )  # fmt: skip
        assert member.address == dev.deployer().address and member.status == "active" and issued.token
    assert (tmp_path / "staff-dev-master.key").stat().st_mode & 0o777 == 0o600
    assert staff_keys(test.model_copy(update={"custody_master_key": None})) is None
    with pytest.raises(ConfigurationError, match="DEMO_DATA"):
        Settings(
            env="production", demo_data=True, database_url="postgresql://x@db/x",
            deployer_key="0x" + "11" * 32, relayer_keys=["0x" + "22" * 32], _env_file=None,
        )  # type: ignore[arg-type]  # fmt: skip


def test_the_migration_makes_exactly_the_staff_tables_of_the_models(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import ledger.staff.models  # noqa: F401

    def staff_only(diff: object) -> bool:
        return "staff_" in repr(diff)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, SQLModel.metadata) if staff_only(d)]
    assert diffs == []
