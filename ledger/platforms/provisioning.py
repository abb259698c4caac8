"""Provisioning: a platform's user becomes a custodial resident on first use, enrolled by it.

A webhook names users by the platform's own id; the custodial subject is `"<platform>:<user id>"`,
so two platforms' user 42 are two residents, and the same subject works in `/v1/custody/*`. The
first time a platform provisions a resident, it vouches for them (`vouch_for`): its own enroller
key (enroller.py) signs `EnrolmentRegistry.enrol(resident, "platform:<id>", evidence)`, relayed
like any staff request, so the chain names the platform's address as the enroller.

Whether the platform may enrol is read from the mirror of the chain's roles (as staff authorization
is), and asked of the chain itself when the mirror says no (a grant the indexer has not stored
yet). Under ESG_ENROLMENT_POLICY=enrolled a platform that may not enrol provisions nobody
(`PlatformNotEnrollerError`, nothing recorded); under `open` it provisions, unenrolled, with a
warning. The evidence hash is the keccak256 of what the platform sent (docs/api.md, "Enrolment
by the platform"): a webhook delivery's raw body, or the custody request's subject.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from sqlalchemy import Engine
from sqlmodel import Session, select

from ..chain.calls import view
from ..custody import SUBJECT_SEPARATOR, KeyEncrypter, create_wallet
from ..enrolment import CONTRACT, EnrolmentRequested, Policy, request_enrolment
from ..errors import PlatformNotEnrollerError
from ..kinds import ChainCalls
from ..models import CustodialWallet
from ..staff.roles import ROLE_GRANTS
from ..types import Address
from .enroller import enroller_account, grant_command, party_for
from .models import DESK_PLATFORM_ID, LEGACY_PLATFORM_ID, Platform
from .registry import PlatformIdentity

log = logging.getLogger(__name__)

_ENROLLER_ROLE = bytes.fromhex(ROLE_GRANTS["enroller"][0][1][2:])


def subject_for(platform_id: str, user_id: str) -> str:
    return f"{platform_id}{SUBJECT_SEPARATOR}{user_id}"


def delivery_evidence(raw: bytes) -> str:
    """keccak256 of a webhook delivery's raw body: the bytes the platform's HMAC signed (without the
    timestamp, so every redelivery of the event has the same hash). The platform keeps its body."""
    return "0x" + keccak(raw).hex()


def request_evidence(platform_id: str, subject: str) -> str:
    """keccak256 of `POST /v1/custody/wallets`'s content: the platform and the subject it asked for
    (kept in SQL with the wallet: `custodial_wallet.platform_id`, `subject`)."""
    return "0x" + keccak(f"esg-custody-wallet:{platform_id}\x00{subject}".encode()).hex()


@dataclass(frozen=True)
class Enrolling:
    """What a vouch needs: the deployment, the policy, and who holds the `enroller` role in the
    mirror (`holds_role`, the read staff authorization makes; the API passes indexer.staff_roles)."""

    engine: Engine
    rpc: ChainCalls
    chain_id: int
    contracts: Mapping[str, str]
    abis: Mapping[str, Any]
    policy: Policy
    ttl: int
    holds_role: Callable[[str], bool]

    def may_enrol(self, address: str) -> bool:
        """The mirror's answer; a no is asked of the chain (`hasRole`), which the mirror follows."""
        if self.holds_role(address):
            return True
        registry = self.contracts.get(CONTRACT)
        if registry is None:
            return False
        (granted,) = view(self.rpc, registry, "hasRole(bytes32,address)", [_ENROLLER_ROLE, address], ["bool"])
        return bool(granted)


def platform_enroller(
    *, session: Session, platform: PlatformIdentity, keys: KeyEncrypter, enrolling: Enrolling
) -> LocalAccount | None:
    """The platform's enroller key if it may enrol now. If not: PlatformNotEnrollerError under
    `enrolled`, naming what to grant; None under `open` (with a warning)."""
    row = None if platform.legacy else session.get(Platform, platform.id)
    account = None if row is None else enroller_account(row, keys)
    if account is None:
        problem = (
            "the legacy ESG_PLATFORM_TOKENS platform has no enroller key; register the platform with "
            "`esg-ledger platform add`"
            if platform.legacy
            else f"platform {platform.id!r} has no enroller key: run `esg-ledger platform enroller "
            f"{platform.id}`, then grant its address the enroller role"
        )
    elif not enrolling.may_enrol(account.address):
        problem = (
            f"platform {platform.id!r}'s enroller address {account.address} does not hold ENROLLER_ROLE "
            f"on EnrolmentRegistry; a staff admin grants it with `{grant_command(account.address)}`"
        )
    else:
        return account
    if enrolling.policy == "enrolled":
        raise PlatformNotEnrollerError(
            problem + " (ESG_ENROLMENT_POLICY=enrolled: no resident is provisioned until then)"
        )
    log.warning("%s; provisioning without enrolment (ESG_ENROLMENT_POLICY=open)", problem)
    return None


def vouch_for(
    *,
    enrolling: Enrolling,
    enroller: LocalAccount,
    platform_id: str,
    subject: str,
    resident: Address,
    evidence_hash: str,
    now: float,
) -> EnrolmentRequested:
    """The platform `platform_id` enrols the resident it just provisioned (wallet `resident`), with its
    own key. Writes in its own transactions: the caller holds no open write transaction."""
    requested = request_enrolment(
        engine=enrolling.engine,
        rpc=enrolling.rpc,
        chain_id=enrolling.chain_id,
        contracts=enrolling.contracts,
        abis=enrolling.abis,
        enroller=enroller,
        resident=resident,
        party=party_for(platform_id),
        evidence_hash=evidence_hash,
        ttl=enrolling.ttl,
        now=now,
    )
    log.info(
        "platform %s vouches for %s (%s): enrolment %s %s by %s, evidence %s",
        platform_id,
        subject,
        resident,
        requested.id,
        requested.status,
        enroller.address,
        evidence_hash,
    )
    return requested


def known_platform_ids(session: Session) -> frozenset[str]:
    """Every platform id a subject prefix may name, the desk's reserved one included (no platform may
    create a `desk:...` subject)."""
    return frozenset(session.exec(select(Platform.id)).all()) | {LEGACY_PLATFORM_ID, DESK_PLATFORM_ID}


def _forget(session: Session, subject: str) -> None:
    """Drops a wallet created just now whose enrolment failed (no action of it could be accepted)."""
    session.rollback()
    row = session.get(CustodialWallet, subject)
    if row is not None:
        session.delete(row)
        session.commit()


def provision(
    *,
    session: Session,
    platform: PlatformIdentity,
    subject: str,
    keys: KeyEncrypter,
    enrolling: Enrolling | None,
    evidence_hash: str,
) -> tuple[CustodialWallet, bool]:
    """(the subject's custodial wallet, created now?); a new one is committed, then enrolled by the
    platform (`enrolling` None: never enrolled, e.g. a tool without a deployment)."""
    wallet, created = create_wallet(
        session=session,
        subject=subject,
        platform_id=platform.id,
        keys=keys,
        known_platforms=known_platform_ids(session),
    )
    if not created:
        return wallet, False
    enroller = (
        None
        if enrolling is None
        else platform_enroller(session=session, platform=platform, keys=keys, enrolling=enrolling)
    )
    resident = Address(wallet.address)
    # The enrolment request is stored in its own transaction: this one ends first (SQLite has one
    # writer, and it would be this thread's own open transaction).
    session.commit()
    if enroller is None or enrolling is None:
        return wallet, True
    try:
        vouch_for(
            enrolling=enrolling,
            enroller=enroller,
            platform_id=platform.id,
            subject=subject,
            resident=resident,
            evidence_hash=evidence_hash,
            now=time.time(),
        )
    except Exception as exc:
        if enrolling.policy == "enrolled":
            _forget(session, subject)  # nothing recorded: the next delivery provisions afresh
            raise
        log.warning("platform %s could not enrol %s (%s): %s", platform.id, subject, resident, exc)
    return wallet, True
