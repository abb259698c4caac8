"""Reads of who counts as a resident (the mirror of EnrolmentRegistry) for the public API: one
resident's enrolment with its on-chain anchors, and the paginated list by party or enroller. No
personal data: addresses, party codes, hashes and log positions only."""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy import Connection, select

from ._reads import Page, paged, position
from .models import ENROLMENT, EVENT_TABLES

__all__ = ["enrolment", "enrolments"]

_ENROLLED = EVENT_TABLES["resident_enrolment"]
_WITHDRAWN = EVENT_TABLES["resident_withdrawal"]


def _state(row: Any) -> dict[str, Any]:
    return {
        "address": row.resident,
        "enrolled": bool(row.enrolled),
        "party": row.party,
        "enroller": row.enroller,
        "evidenceHash": row.evidence_hash,
        "enrolledAt": {"blockNumber": row.enrolled_block, "txHash": row.enrolled_tx},
        "withdrawnBy": row.withdrawn_by,
        "reasonCode": row.reason_code,
    }


def enrolment(conn: Connection, *, chain_id: int, address: str) -> dict[str, Any] | None:
    """`address`'s enrolment now and every enrolment and withdrawal event, oldest first; None if never."""
    who = to_checksum_address(address)
    row = conn.execute(
        select(ENROLMENT).where(ENROLMENT.c.chain_id == chain_id, ENROLMENT.c.resident == who)
    ).first()
    if row is None:
        return None
    history: list[tuple[int, int, dict[str, Any]]] = []
    for r in conn.execute(
        select(_ENROLLED).where(_ENROLLED.c.chain_id == chain_id, _ENROLLED.c.resident == who)
    ):
        event = {
            "event": "ResidentEnrolled",
            "by": r.enroller,
            "party": r.party,
            "evidenceHash": r.evidence_hash,
        }
        history.append((r.block_number, r.log_index, event | position(r)))
    for r in conn.execute(
        select(_WITHDRAWN).where(_WITHDRAWN.c.chain_id == chain_id, _WITHDRAWN.c.resident == who)
    ):
        event = {
            "event": "ResidentWithdrawn",
            "by": r.by_address,
            "party": r.party,
            "reasonCode": r.reason_code,
        }
        history.append((r.block_number, r.log_index, event | position(r)))
    return _state(row) | {"history": [h for _, _, h in sorted(history, key=lambda h: (h[0], h[1]))]}


def enrolments(
    conn: Connection,
    *,
    chain_id: int,
    party: str | None = None,
    enroller: str | None = None,
    enrolled: bool | None = None,
    limit: int,
    offset: int,
) -> Page:
    """Residents ever enrolled, newest enrolment first, filtered by party code (bytes32 hex), enroller
    address and whether they are enrolled now."""
    e = ENROLMENT.c
    query = select(ENROLMENT).where(e.chain_id == chain_id)
    if party is not None:
        query = query.where(e.party == party.lower())
    if enroller is not None:
        query = query.where(e.enroller == to_checksum_address(enroller))
    if enrolled is not None:
        query = query.where(e.enrolled == enrolled)
    rows, total = paged(conn, query, [e.enrolled_block.desc(), e.resident], limit, offset)
    return {"items": [_state(r) for r in rows], "total": total}
