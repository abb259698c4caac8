"""The partner desk's reads: a partner's registry entry, its redemptions and its settlement totals.

A partner's redemptions are every `Redeemed` record the mirror has for it, and every redemption it
accepted at its desk (`partner_redemption`) that is not recorded yet: queued, submitted or failed
in the outbox. A mirrored record is `confirmed`, with its log as the anchor; otherwise the outbox's
status and transaction say where it stands. `acceptedAt` is when the desk accepted it (or, for a
redemption a resident submitted elsewhere, when the outbox took it); a record that never went
through this ledger's outbox has none, and periods leave it out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy import Connection, Numeric, Table, and_, case, cast, func, literal, select, union

from ledger.directory import ProfileKind
from ledger.models import Action
from ledger.partners.models import PartnerRedemption

from ._reads import Page, paged
from .models import EVENT_TABLES, PARTNER
from .queries import _profiles, _with_profile

__all__ = [
    "REDEMPTION_STATUSES",
    "partner_entry",
    "partner_redemptions",
    "partner_settlement",
    "registration",
]

REDEMPTION_STATUSES = ("queued", "submitted", "confirmed", "failed")
_REDEMPTION = EVENT_TABLES["redemption"]
_DESK: Table = PartnerRedemption.__table__  # type: ignore[attr-defined]
_ACTION: Table = Action.__table__  # type: ignore[attr-defined]
_DAY = 86_400


def registration(conn: Connection, *, chain_id: int, partner: str) -> int | None:
    """The partner's registration expiry (unix seconds) per the mirror; None unless registered."""
    p = PARTNER.c
    row = conn.execute(
        select(p.expires_at).where(
            p.chain_id == chain_id, p.partner == to_checksum_address(partner), p.registered
        )
    ).first()
    return None if row is None else int(row.expires_at)


def partner_entry(conn: Connection, *, chain_id: int, partner: str, now: int) -> dict[str, Any] | None:
    """The partner's registry entry with its profile, as `GET /v1/partners` lists it; None if unknown."""
    p = PARTNER.c
    who = to_checksum_address(partner)
    r = conn.execute(select(PARTNER).where(p.chain_id == chain_id, p.partner == who)).first()
    if r is None:
        return None
    profile = _profiles(conn, chain_id, ProfileKind.PARTNER, [who]).get(who)
    record = {
        "address": r.partner,
        "active": bool(r.registered and r.expires_at > now),
        "registered": r.registered,
        "expiresAt": r.expires_at,
        "burnOnRedeem": r.burn_on_redeem,
        "updatedBlock": r.updated_block,
    }
    return _with_profile(record, profile, r.metadata_hash)


def _rows(chain_id: int, partner: str) -> Any:
    """One row per redemption of the partner: mirrored, desk-accepted, or both."""
    rd, desk, a = _REDEMPTION.c, _DESK.c, _ACTION.c
    ids = union(
        select(rd.digest.label("id")).where(rd.chain_id == chain_id, rd.partner == partner),
        select(desk.action_id.label("id")).where(desk.chain_id == chain_id, desk.partner == partner),
    ).subquery("ids")
    joined = (
        ids.outerjoin(_REDEMPTION, and_(rd.digest == ids.c.id, rd.chain_id == chain_id))
        .outerjoin(_DESK, desk.action_id == ids.c.id)
        .outerjoin(_ACTION, a.id == ids.c.id)
    )
    recorded = rd.digest.is_not(None)
    return (
        select(
            ids.c.id,
            func.coalesce(rd.resident, desk.resident).label("resident"),
            func.coalesce(rd.amount, desk.amount).label("amount"),
            func.coalesce(rd.offer_hash, desk.offer_hash).label("offer_hash"),
            rd.burned,
            case((recorded, literal("confirmed")), else_=func.coalesce(a.status, "queued")).label("status"),
            case((recorded, rd.tx_hash), else_=a.tx_hash).label("tx_hash"),
            case((recorded, rd.block_number), else_=a.block_number).label("block_number"),
            case((recorded, rd.log_index), else_=a.log_index).label("log_index"),
            a.error,
            func.coalesce(desk.accepted_at, a.created_at).label("at"),
            desk.key_id,
        )
        .select_from(joined)
        .subquery("partner_redemptions")
    )


def _filtered(rows: Any, status: str | None, since: int | None, until: int | None) -> Any:
    query = select(rows)
    if status is not None:
        query = query.where(rows.c.status == status)
    if since is not None:
        query = query.where(rows.c.at >= since)
    if until is not None:
        query = query.where(rows.c.at < until)
    return query


def partner_redemptions(
    conn: Connection,
    *,
    chain_id: int,
    partner: str,
    status: str | None = None,
    since: int | None = None,
    until: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """The partner's redemptions, newest accepted first (records without a time last)."""
    rows = _rows(chain_id, to_checksum_address(partner))
    query = _filtered(rows, status, since, until)
    order = [func.coalesce(rows.c.at, 0).desc(), rows.c.block_number.desc(), rows.c.id]
    found, total = paged(conn, query, order, limit, offset)
    items = [
        {
            "id": r.id,
            "resident": r.resident,
            "amount": int(r.amount),
            "offerHash": r.offer_hash,
            "status": r.status,
            "burned": r.burned,
            "txHash": r.tx_hash,
            "blockNumber": r.block_number,
            "logIndex": r.log_index,
            "error": r.error if r.status == "failed" else None,
            "acceptedAt": r.at,
            "keyId": r.key_id,
        }
        for r in found
    ]
    return {"items": items, "total": total}


def _bucket() -> dict[str, int]:
    return {"count": 0, "amount": 0}


def _totals() -> dict[str, dict[str, int]]:
    return {"confirmed": _bucket(), "pending": _bucket(), "failed": _bucket()}


def partner_settlement(
    conn: Connection,
    *,
    chain_id: int,
    partner: str,
    since: int | None = None,
    until: int | None = None,
    utc_offset_minutes: int = 540,
) -> dict[str, Any]:
    """Redeemed points and counts, confirmed (recorded on chain) vs pending (queued or submitted) vs
    failed, over the period and per local day (`utc_offset_minutes`: Korea's +09:00 by default)."""
    rows = _rows(chain_id, to_checksum_address(partner))
    query = _filtered(rows, None, since, until).with_only_columns(
        rows.c.status, cast(rows.c.amount, Numeric(78, 0)), rows.c.at
    )
    totals = _totals()
    days: dict[str, dict[str, dict[str, int]]] = {}
    for status, amount, at in conn.execute(query):
        group = "pending" if status in ("queued", "submitted") else str(status)
        buckets = [totals]
        if at is not None:
            day = datetime.fromtimestamp(int(at) + utc_offset_minutes * 60, UTC).date().isoformat()
            buckets.append(days.setdefault(day, _totals()))
        for b in buckets:
            b[group]["count"] += 1
            b[group]["amount"] += int(amount)
    return {
        "partner": to_checksum_address(partner),
        "from": since,
        "to": until,
        "utcOffsetMinutes": utc_offset_minutes,
        **totals,
        "days": [{"day": day, **t} for day, t in sorted(days.items())],
    }
