"""The mirror's read queries behind the public API: feedback, partners, causes, campaigns, residents,
plogging sessions and programme totals.

Each function takes a connection and keyword arguments and returns the public shape (the API's
camelCase keys), so routes only parse parameters. Lists are pages: `{"items": [...], "total": n}`,
`total` counting every row the filters match. Off-chain data joins in here: feedback text
(`feedback_content`, shown unless hidden by moderation or erased) and directory profiles (names of
partners, causes and campaigns; `null` when there is none). A resident's amounts are summed
exactly, however large (`_reads.exact_sum`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy import (
    BindParameter,
    Connection,
    Numeric,
    Table,
    and_,
    bindparam,
    cast,
    func,
    literal,
    not_,
    select,
    union_all,
)

from ledger.directory import DirectoryProfile, ProfileKind
from ledger.models import Action
from ledger.types import checksum

from ._feedback_reads import FEEDBACK_STATUSES, feedback_item, feedback_items, feedback_public, item_select
from ._reads import Page, paged, position
from .models import BALANCE, CAMPAIGN, CAUSE, EVENT_TABLES, FEEDBACK_ITEM, PARTNER
from .models import PLOGGING_REVIEW as REVIEW

__all__ = [
    "CAMPAIGN_METRICS",
    "CAMPAIGN_STATUSES",
    "FEEDBACK_STATUSES",
    "SESSION_STATUSES",
    "action_status",
    "actions_by_status",
    "campaigns",
    "causes",
    "feedback_item",
    "feedback_items",
    "partners",
    "plogging_sessions",
    "programme_totals",
    "resident_summary",
]


# The contracts' enums by value, in the API's words (IPloggingRegistry, IFeedbackBox, ICommunityRewards)
SESSION_STATUSES = {1: "pending", 2: "accepted", 3: "rejected", 4: "revoked"}
CAMPAIGN_STATUSES = {1: "active", 2: "achieved", 3: "missed", 4: "cancelled"}
CAMPAIGN_METRICS = {0: "trash_grams", 1: "distance_meters", 2: "sessions", 3: "accepted_feedback"}
_ACCEPTED = 2
_ZERO = "0x0000000000000000000000000000000000000000"
_ZERO_HASH = "0x" + "00" * 32
_RECENT = 20

_SESSION = EVENT_TABLES["plogging_session"]
_TRANSFER = EVENT_TABLES["token_transfer"]
_SUBMISSION = EVENT_TABLES["feedback_submission"]
_SUPPORT = EVENT_TABLES["feedback_support"]
_REDEMPTION = EVENT_TABLES["redemption"]
_DONATION = EVENT_TABLES["donation"]
_CLAIM = EVENT_TABLES["bonus_claim"]
_PROFILE: Table = DirectoryProfile.__table__  # type: ignore[attr-defined]
_ACTION: Table = Action.__table__  # type: ignore[attr-defined]

# recorded sessions joined with their review (verify / reject / revoke), if any
_SESSIONS_WITH_REVIEW: Any = _SESSION.outerjoin(
    REVIEW, and_(REVIEW.c.chain_id == _SESSION.c.chain_id, REVIEW.c.digest == _SESSION.c.digest)
)
_CURRENT_STATUS: Any = func.coalesce(REVIEW.c.status, _SESSION.c.status)


def _profiles(conn: Connection, chain_id: int, kind: ProfileKind, keys: Iterable[str]) -> dict[str, Any]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    p = _PROFILE.c
    rows = conn.execute(
        select(_PROFILE).where(p.chain_id == chain_id, p.kind == kind.value, p.key.in_(wanted))
    )
    return {r.key: r for r in rows}


def _with_profile(item: dict[str, Any], profile: Any, on_chain_hash: str) -> dict[str, Any]:
    return item | {
        "name": profile.name if profile else None,
        "description": profile.description if profile else None,
        "metadataHash": on_chain_hash,
        "profileVerified": None if profile is None else profile.metadata_hash == on_chain_hash,
        "demo": bool(profile.demo) if profile else False,
    }


# --- partners, causes, campaigns


def partners(
    conn: Connection, *, chain_id: int, now: int, active: bool | None = None, limit: int = 50, offset: int = 0
) -> Page:
    """Partners by address; active = registered, not removed and not expired at `now`."""
    p = PARTNER.c
    is_active = and_(p.registered, cast(p.expires_at, Numeric(78, 0)) > now)
    query = select(PARTNER).where(p.chain_id == chain_id)
    if active is not None:
        query = query.where(is_active if active else not_(is_active))
    rows, total = paged(conn, query, [func.lower(p.partner), p.partner], limit, offset)  # hex order
    profiles = _profiles(conn, chain_id, ProfileKind.PARTNER, (r.partner for r in rows))
    items = [
        _with_profile(
            {
                "address": r.partner,
                "active": bool(r.registered and r.expires_at > now),
                "registered": r.registered,
                "expiresAt": r.expires_at,
                "burnOnRedeem": r.burn_on_redeem,
                "updatedBlock": r.updated_block,
            },
            profiles.get(r.partner),
            r.metadata_hash,
        )
        for r in rows
    ]
    return {"items": items, "total": total}


def causes(
    conn: Connection, *, chain_id: int, active: bool | None = None, limit: int = 50, offset: int = 0
) -> Page:
    """Causes by id."""
    c = CAUSE.c
    query = select(CAUSE).where(c.chain_id == chain_id)
    if active is not None:
        query = query.where(c.active == active)
    rows, total = paged(conn, query, [c.cause_id], limit, offset)
    profiles = _profiles(conn, chain_id, ProfileKind.CAUSE, (str(r.cause_id) for r in rows))
    items = [
        _with_profile(
            {"id": r.cause_id, "active": r.active, "wallet": r.wallet, "updatedBlock": r.updated_block},
            profiles.get(str(r.cause_id)),
            r.metadata_hash,
        )
        for r in rows
    ]
    return {"items": items, "total": total}


def campaigns(
    conn: Connection, *, chain_id: int, status: str | None = None, limit: int = 50, offset: int = 0
) -> Page:
    """Campaigns, newest first."""
    c = CAMPAIGN.c
    query = select(CAMPAIGN).where(c.chain_id == chain_id)
    if status is not None:
        query = query.where(c.status == {v: k for k, v in CAMPAIGN_STATUSES.items()}[status])
    rows, total = paged(conn, query, [c.campaign_id.desc()], limit, offset)
    profiles = _profiles(conn, chain_id, ProfileKind.CAMPAIGN, (str(r.campaign_id) for r in rows))
    items = [
        _with_profile(
            {
                "id": r.campaign_id,
                "status": CAMPAIGN_STATUSES.get(r.status, str(r.status)),
                "metric": CAMPAIGN_METRICS.get(r.metric, str(r.metric)),
                "areaCode": r.area_code,
                "startsAt": r.starts_at,
                "endsAt": r.ends_at,
                "goal": r.goal,
                "progress": r.progress,
                # goal > 0 on chain; two decimals, exact however large the numbers
                "progressPercent": (r.progress * 10_000 // r.goal) / 100 if r.goal else 0.0,
                "bonusRoot": None if r.bonus_root == _ZERO_HASH else r.bonus_root,
                "bonusTotal": r.bonus_total,
                "bonusClaimed": r.bonus_claimed,
                "updatedBlock": r.updated_block,
            },
            profiles.get(str(r.campaign_id)),
            r.metadata_hash,
        )
        for r in rows
    ]
    return {"items": items, "total": total}


# --- residents, plogging, totals


_ACTION_STATUS = select(
    _ACTION.c.id,
    _ACTION.c.kind,
    _ACTION.c.status,
    _ACTION.c.tx_hash,
    _ACTION.c.block_number,
    _ACTION.c.log_index,
    _ACTION.c.error,
).where(_ACTION.c.id == bindparam("id"))


def action_status(conn: Connection, *, action_id: str) -> dict[str, Any] | None:
    """One outbox action in its public shape (`ledger.models.ActionPublic`), or None."""
    r = conn.execute(_ACTION_STATUS, {"id": action_id.lower()}).first()
    if r is None:
        return None
    return {
        "id": r.id,
        "kind": r.kind,
        "status": r.status,
        "txHash": r.tx_hash,
        "blockNumber": r.block_number,
        "logIndex": r.log_index,
        "error": r.error,
    }


def actions_by_status(conn: Connection, *, resident: str | None = None) -> dict[str, int]:
    """The outbox's actions by status (one resident's, or everyone's)."""
    a = _ACTION.c
    query = select(a.status, func.count()).group_by(a.status)
    if resident is not None:
        query = query.where(a.resident == to_checksum_address(resident))
    return {str(s): int(n) for s, n in conn.execute(query)}


# The resident summary's statements, built once with bind parameters: building and compiling a
# dozen selects per request cost several times more than SQLite answering them (docs/benchmarks.md).
_CHAIN: BindParameter[int] = bindparam("chain_id")
_WHO: BindParameter[str] = bindparam("who")
_RECENT_TABLES = {"support": _SUPPORT, "redemption": _REDEMPTION, "donation": _DONATION, "claim": _CLAIM}
_AMOUNT_TABLES = {"redeemed": _REDEMPTION, "donated": _DONATION, "claimed": _CLAIM}


def _by_resident(table: Table) -> Any:
    return and_(table.c.chain_id == _CHAIN, table.c.resident == _WHO)


_RESIDENT: dict[str, Any] = {
    "balance_rows": select(BALANCE.c.balance).where(
        BALANCE.c.chain_id == _CHAIN, BALANCE.c.token == bindparam("token"), BALANCE.c.holder == _WHO
    ),
    "balance_sum": select(func.coalesce(func.sum(BALANCE.c.balance), 0)).where(
        BALANCE.c.chain_id == _CHAIN, BALANCE.c.token == bindparam("token"), BALANCE.c.holder == _WHO
    ),
    "authored": item_select()
    .where(FEEDBACK_ITEM.c.chain_id == _CHAIN, FEEDBACK_ITEM.c.author == _WHO)
    .order_by(FEEDBACK_ITEM.c.item_id.desc())
    .limit(_RECENT),
    # sessions by current status, with the accepted ones' totals: outcomes and plogging in one
    "outcomes": select(
        _CURRENT_STATUS,
        func.count(),
        func.coalesce(func.sum(_SESSION.c.trash_grams), 0),
        func.coalesce(func.sum(_SESSION.c.distance_meters), 0),
    )
    .select_from(_SESSIONS_WITH_REVIEW)
    .where(_by_resident(_SESSION))
    .group_by(_CURRENT_STATUS),
    "counts": select(
        select(func.count()).where(_by_resident(_SUBMISSION)).scalar_subquery(),
        select(func.count()).where(_by_resident(_SUPPORT)).scalar_subquery(),
    ),
    "sessions": select(
        _SESSION, _CURRENT_STATUS.label("current_status"), REVIEW.c.reason_code, REVIEW.c.verifier
    )
    .select_from(_SESSIONS_WITH_REVIEW)
    .where(_by_resident(_SESSION))
    .order_by(_SESSION.c.block_number.desc(), _SESSION.c.log_index.desc())
    .limit(_RECENT),
    "actions": select(_ACTION.c.status, func.count())
    .where(_ACTION.c.resident == _WHO)
    .group_by(_ACTION.c.status),
}
_RECENT_ROWS = {
    name: select(t)
    .where(_by_resident(t))
    .order_by(t.c.block_number.desc(), t.c.log_index.desc())
    .limit(_RECENT)
    for name, t in _RECENT_TABLES.items()
}
# every amount the resident redeemed, donated and claimed, tagged, in one statement (summed exactly
# in Python on SQLite, whose integer sum() fails past 2**63; as NUMERIC on PostgreSQL)
_AMOUNT_ROWS = union_all(
    *(
        select(literal(name).label("tag"), t.c.amount).where(_by_resident(t))
        for name, t in _AMOUNT_TABLES.items()
    )
)
_AMOUNT_SUMS = union_all(
    *(
        select(
            literal(name).label("tag"), func.coalesce(func.sum(cast(t.c.amount, Numeric(78, 0))), 0)
        ).where(_by_resident(t))
        for name, t in _AMOUNT_TABLES.items()
    )
)


def _exact(conn: Connection, rows: Any, total: Any, params: dict[str, Any]) -> int:
    """`_reads.exact_sum` with prebuilt statements: NUMERIC sum on PostgreSQL, Python's on SQLite."""
    if conn.dialect.name == "postgresql":
        return int(conn.execute(total, params).scalar_one())
    return sum(int(v) for v in conn.execute(rows, params).scalars())


def _recent(conn: Connection, name: str, params: dict[str, Any], **keys: str) -> list[dict[str, Any]]:
    """The resident's last 20 rows of an event table, each as `keys` (public name → column) and its log."""
    rows = conn.execute(_RECENT_ROWS[name], params)
    return [{k: getattr(r, c) for k, c in keys.items()} | position(r) for r in rows]


def resident_summary(conn: Connection, *, chain_id: int, token: str, resident: str) -> dict[str, Any]:
    """Balance, accepted plogging totals, feedback counts, amounts redeemed, donated and claimed, the
    last 20 of each kind of record, and the resident's actions in the outbox."""
    who = checksum(resident)  # cached: the same residents come back all day
    params = {"chain_id": chain_id, "who": who, "token": token}
    q = _RESIDENT
    balance = _exact(conn, q["balance_rows"], q["balance_sum"], params)
    authored = conn.execute(q["authored"], params).all()
    outcomes = dict.fromkeys(SESSION_STATUSES.values(), 0)
    sessions = grams = meters = 0
    for status, n, status_grams, status_meters in conn.execute(q["outcomes"], params):
        outcomes[SESSION_STATUSES.get(status, str(status))] = int(n)
        if status == _ACCEPTED:
            sessions, grams, meters = n, status_grams, status_meters
    submitted, supported = conn.execute(q["counts"], params).one()
    amounts = dict.fromkeys(_AMOUNT_TABLES, 0)
    exact = conn.dialect.name == "postgresql"
    for tag, value in conn.execute(_AMOUNT_SUMS if exact else _AMOUNT_ROWS, params):
        amounts[tag] += int(value)
    return {
        "address": who,
        "balance": balance,
        "plogging": {"sessions": int(sessions), "trashGrams": int(grams), "distanceMeters": int(meters)},
        "sessionOutcomes": outcomes,
        "feedback": {"submitted": int(submitted), "supported": int(supported)},
        **amounts,
        "recent": {
            "sessions": _recent_sessions(conn, params),
            "feedback": feedback_public(conn, chain_id, authored),
            "supports": _recent(conn, "support", params, itemId="item_id", digest="digest"),
            "redemptions": _recent(
                conn,
                "redemption",
                params,
                digest="digest",
                partner="partner",
                amount="amount",
                offerHash="offer_hash",
                burned="burned",
            ),
            "donations": _recent(
                conn,
                "donation",
                params,
                digest="digest",
                causeId="cause_id",
                wallet="wallet",
                amount="amount",
            ),
            "claims": _recent(
                conn, "claim", params, digest="digest", campaignId="campaign_id", amount="amount"
            ),
        },
        "actions": {str(s): int(n) for s, n in conn.execute(q["actions"], params)},
    }


def _recent_sessions(conn: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The resident's last 20 sessions with their outcome: status, and the verifier's reason code."""
    return [
        {k: getattr(r, c) for k, c in _SESSION_KEYS.items()}
        | {
            "status": SESSION_STATUSES.get(r.current_status, str(r.current_status)),
            "reasonCode": r.reason_code,
            "verifier": r.verifier,
        }
        | position(r)
        for r in conn.execute(_RESIDENT["sessions"], params)
    ]


def _plogging_totals(conn: Connection, chain_id: int, *where: Any) -> dict[str, int]:
    sessions, grams, meters = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(_SESSION.c.trash_grams), 0),
            func.coalesce(func.sum(_SESSION.c.distance_meters), 0),
        )
        .select_from(_SESSIONS_WITH_REVIEW)
        .where(_SESSION.c.chain_id == chain_id, _CURRENT_STATUS == _ACCEPTED, *where)
    ).one()
    return {"sessions": int(sessions), "trashGrams": int(grams), "distanceMeters": int(meters)}


_SESSION_KEYS = {
    "id": "digest",
    "resident": "resident",
    "distanceMeters": "distance_meters",
    "durationSeconds": "duration_seconds",
    "trashGrams": "trash_grams",
    "areaCode": "area_code",
    "startedAt": "started_at",
    "evidenceHash": "evidence_hash",
    "reward": "reward",
}


def plogging_sessions(
    conn: Connection,
    *,
    chain_id: int,
    resident: str | None = None,
    area_code: int | None = None,
    before_block: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Recorded sessions, newest first, with their current review status."""
    s = _SESSION.c
    query = (
        select(_SESSION, _CURRENT_STATUS.label("current_status"))
        .select_from(_SESSIONS_WITH_REVIEW)
        .where(s.chain_id == chain_id)
    )
    if resident is not None:
        query = query.where(s.resident == to_checksum_address(resident))
    if area_code is not None:
        query = query.where(s.area_code == area_code)
    if before_block is not None:
        query = query.where(s.block_number < before_block)
    query = query.order_by(s.block_number.desc(), s.log_index.desc()).limit(limit)
    return [
        {k: getattr(r, c) for k, c in _SESSION_KEYS.items()}
        | {"status": SESSION_STATUSES.get(r.current_status, str(r.current_status))}
        | {"txHash": r.tx_hash, "blockNumber": r.block_number, "logIndex": r.log_index}
        for r in conn.execute(query)
    ]


def programme_totals(conn: Connection, *, chain_id: int) -> dict[str, Any]:
    """Residents with accepted sessions, accepted plogging totals, points minted, actions by status."""
    residents = conn.execute(
        select(func.count(func.distinct(_SESSION.c.resident)))
        .select_from(_SESSIONS_WITH_REVIEW)
        .where(_SESSION.c.chain_id == chain_id, _CURRENT_STATUS == _ACCEPTED)
    ).scalar_one()
    minted = conn.execute(
        select(func.coalesce(func.sum(_TRANSFER.c.value), 0)).where(
            _TRANSFER.c.chain_id == chain_id, _TRANSFER.c.from_address == _ZERO
        )
    ).scalar_one()
    return {
        "chainId": chain_id,
        "residents": int(residents),
        "plogging": _plogging_totals(conn, chain_id),
        "pointsMinted": int(minted),
        "actions": actions_by_status(conn),
    }
