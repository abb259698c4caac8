"""Desk mode: a staff member acts for a resident who came to a service desk without a device.

The desk holds those residents' custodial wallets under the reserved owner `DESK_PLATFORM_ID`
("desk", which no platform may register, ledger/platforms/registry.py), as subject
`desk:<reference>`, the reference being the desk's own id for the person (a case number). No
platform token reaches them: a wallet answers only to its owner (ledger/custody/wallets.py), and a
platform may not create a `desk:` subject (`known_platform_ids` names the desk).

Every act is signed with the resident's custodial key through `ledger.custody.sign_for`, checked as
any submission is (enrolment policy, rate limits), and logged here as assisted (`AssistedAction`):
who acted (the member's id and address), for whom (address, desk reference), with which consent
(the hash of the signed consent form) and what.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Field, Session, SQLModel, col

from .custody import SUBJECT_SEPARATOR, KeyEncrypter, create_wallet
from .models import CustodialWallet
from .platforms.models import DESK_PLATFORM_ID
from .platforms.provisioning import known_platform_ids

__all__ = [
    "DESK_PARTY",
    "DESK_PLATFORM_ID",
    "REFERENCE_PATTERN",
    "AssistedAction",
    "desk_subject",
    "desk_wallet",
    "list_assisted",
    "record_assisted",
]

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# The party code the chain records for a resident the desk enrols in an assisted call.
DESK_PARTY = "desk:assisted"


def desk_subject(reference: str) -> str:
    return f"{DESK_PLATFORM_ID}{SUBJECT_SEPARATOR}{reference}"


class AssistedAction(SQLModel, table=True):
    """One action a staff member made for a resident at a desk, with the resident's consent."""

    __tablename__ = "assisted_action"

    action_id: str = Field(primary_key=True, max_length=66)  # the action's EIP-712 digest
    resident: str = Field(max_length=42, index=True)
    reference: str = Field(max_length=64, index=True)
    staff_member_id: int = Field(index=True)
    staff_address: str = Field(max_length=42)
    consent_hash: str = Field(max_length=66)
    kind: str = Field(max_length=32)
    enrolment_id: str | None = Field(default=None, max_length=66)  # enrolled in the same call
    created_at: float = Field(index=True)


def desk_wallet(*, session: Session, reference: str, keys: KeyEncrypter) -> tuple[CustodialWallet, bool]:
    """(the desk's wallet for `reference`, created now?); a new one is committed before this returns."""
    wallet, created = create_wallet(
        session=session,
        subject=desk_subject(reference),
        platform_id=DESK_PLATFORM_ID,
        keys=keys,
        known_platforms=known_platform_ids(session),
    )
    session.commit()
    return wallet, created


def record_assisted(
    *,
    session: Session,
    action_id: str,
    resident: str,
    reference: str,
    staff_member_id: int,
    staff_address: str,
    consent_hash: str,
    kind: str,
    enrolment_id: str | None,
    now: float | None = None,
) -> AssistedAction:
    """Stores the log row (the same action twice is one row); commits."""
    existing = session.get(AssistedAction, action_id)
    if existing is not None:
        return existing
    row = AssistedAction(
        action_id=action_id,
        resident=resident,
        reference=reference,
        staff_member_id=staff_member_id,
        staff_address=staff_address,
        consent_hash=consent_hash.lower(),
        kind=kind,
        enrolment_id=enrolment_id,
        created_at=time.time() if now is None else now,
    )
    session.add(row)
    session.commit()
    return row


@dataclass(frozen=True)
class AssistedPage:
    items: list[dict[str, Any]]
    total: int


def _public(row: AssistedAction) -> dict[str, Any]:
    return {
        "actionId": row.action_id,
        "resident": row.resident,
        "reference": row.reference,
        "staffMemberId": row.staff_member_id,
        "staffAddress": row.staff_address,
        "consentHash": row.consent_hash,
        "kind": row.kind,
        "enrolmentId": row.enrolment_id,
        "createdAt": row.created_at,
    }


def list_assisted(
    *, session: Session, reference: str | None, staff_member_id: int | None, limit: int, offset: int
) -> AssistedPage:
    """The log, newest first, filtered by desk reference and/or staff member."""
    where = []
    if reference is not None:
        where.append(col(AssistedAction.reference) == reference)
    if staff_member_id is not None:
        where.append(col(AssistedAction.staff_member_id) == staff_member_id)
    total = session.execute(select(func.count()).select_from(AssistedAction).where(*where)).scalar_one()
    rows = session.execute(
        select(AssistedAction)
        .where(*where)
        .order_by(col(AssistedAction.created_at).desc(), col(AssistedAction.action_id))
        .limit(limit)
        .offset(offset)
    ).scalars()
    return AssistedPage(items=[_public(r) for r in rows], total=int(total))
