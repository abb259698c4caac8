"""Enrolment requests in the outbox: which residents a staff request to `EnrolmentRegistry.enrol` or
`enrolBatch` will enrol, so the product counts them as enrolled from the moment the request is
accepted (a platform that provisions a resident and acts at once is not refused), until the request
fails or the mirror has the chain's own record.

One row per (request, resident), written in the transaction that stores the staff request
(`ledger.staff_actions.accept_call`), whoever signed it: a desk member's wallet, a custodial
member's key, a platform's enroller key (`ledger.enrolment.request_enrolment`).
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode
from eth_hash.auto import keccak
from sqlalchemy import ColumnElement, Connection, exists, text
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col

from .kinds import VerifiedAction
from .models import Action, ActionStatus
from .types import checksum

__all__ = [
    "ENROL",
    "ENROL_BATCH",
    "EnrolmentRequest",
    "enrolment_in_flight",
    "note_enrolment_requests",
    "pending_enrolment",
]

ENROL = "enrol(address,bytes32,bytes32)"
ENROL_BATCH = "enrolBatch((address,bytes32,bytes32)[])"
_SELECTORS = {keccak(ENROL.encode())[:4]: ENROL, keccak(ENROL_BATCH.encode())[:4]: ENROL_BATCH}


class EnrolmentRequest(SQLModel, table=True):
    """A resident a staff request (the `action` row `action_id`) enrols once it runs."""

    __tablename__ = "enrolment_request"

    action_id: str = Field(primary_key=True, max_length=66)
    resident: str = Field(primary_key=True, max_length=42, index=True)
    party: str = Field(max_length=66)
    evidence_hash: str = Field(max_length=66)
    enroller: str = Field(max_length=42)
    created_at: float


def _enrolments(data: bytes) -> list[tuple[str, bytes, bytes]]:
    """(resident, party, evidence hash) of an enrol / enrolBatch call; [] for any other call."""
    function = _SELECTORS.get(data[:4])
    if function == ENROL:
        resident, party, evidence = decode(["address", "bytes32", "bytes32"], data[4:])
        return [(resident, party, evidence)]
    if function == ENROL_BATCH:
        (entries,) = decode(["(address,bytes32,bytes32)[]"], data[4:])
        return [tuple(e) for e in entries]
    return []


def note_enrolment_requests(*, session: Session, action: VerifiedAction, now: float) -> int:
    """Records whom a verified staff request enrols (none for any other call); idempotent by request."""
    message: dict[str, Any] = action.message
    data = str(message.get("data", "0x"))
    rows = {
        checksum(resident): EnrolmentRequest(
            action_id=action.id,
            resident=checksum(resident),
            party="0x" + party.hex(),
            evidence_hash="0x" + evidence.hex(),
            enroller=checksum(str(message["from"])),
            created_at=now,
        )
        for resident, party, evidence in _enrolments(bytes.fromhex(data[2:]))
    }
    for row in rows.values():
        session.merge(row)
    return len(rows)


_PENDING = text(
    "SELECT a.status, a.block_number FROM enrolment_request q JOIN action a ON a.id = q.action_id "
    "WHERE q.resident = :resident AND a.status != :failed"
)


def pending_enrolment(conn: Connection, resident: str, *, mirrored_block: int | None) -> bool:
    """Whether a request enrolling `resident` is queued, in flight, or confirmed in a block the mirror
    has not caught up with (`mirrored_block`: the block of the mirror's latest record, if any)."""
    for status, block in conn.execute(
        _PENDING, {"resident": checksum(resident), "failed": ActionStatus.FAILED}
    ):
        if status != ActionStatus.CONFIRMED:
            return True
        if mirrored_block is None or (block is not None and int(block) > mirrored_block):
            return True
    return False


def enrolment_in_flight(resident: Any) -> ColumnElement[bool]:
    """SQL: an enrolment request of `resident` (a column) is queued or in flight. The relayer holds
    such a resident's actions until it is mined, so the chain shows every enrolment before the
    resident's first reward, even for a resident who acted the moment they were enrolled."""
    enrolling = aliased(Action)
    return exists().where(
        col(EnrolmentRequest.resident) == resident,
        col(EnrolmentRequest.action_id) == col(enrolling.id),
        col(enrolling.status).in_([ActionStatus.QUEUED, ActionStatus.SUBMITTED]),
    )
