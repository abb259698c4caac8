"""The mirror's reads behind the ESG team's work: the verification queue, committed sessions' Merkle
proofs, the feedback queue and the overdue list, the admin log, and who holds which role.

Like queries.py, each function takes a connection and keyword arguments and returns the API's shape;
lists are `{"items", "total"}` pages. `areas` is a staff member's area scope: None sees every area,
a set sees only those area codes (the filters combine with it, never widen it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from sqlalchemy import Connection, Select, and_, false, func, not_, or_, select, true

from ._feedback_reads import FEEDBACK_STATUSES, feedback_public
from ._feedback_reads import _categories as categories
from ._reads import Page, paged, position
from .models import ADMIN_ACTION, EVENT_TABLES, FEEDBACK_ITEM, ROLE_MEMBER
from .models import PLOGGING_REVIEW as REVIEW
from .queries import SESSION_STATUSES

__all__ = [
    "FLAG_FRACTION",
    "ROLE_IDS",
    "admin_log",
    "admin_log_rows",
    "batch_proof",
    "committed_session",
    "current_bounds",
    "feedback_area",
    "feedback_queue",
    "overdue_items",
    "policy",
    "role_members",
    "session_detail",
    "verification_queue",
]

# Product role → the on-chain role id (bytes32) each contract checks; "admin" is DEFAULT_ADMIN_ROLE.
ROLE_IDS: dict[str, str] = {
    "verifier": "0x" + keccak(b"VERIFIER_ROLE").hex(),
    "reviewer": "0x" + keccak(b"REVIEWER_ROLE").hex(),
    "moderator": "0x" + keccak(b"MODERATOR_ROLE").hex(),
    "campaign_manager": "0x" + keccak(b"CAMPAIGN_ROLE").hex(),
    "partner_manager": "0x" + keccak(b"PARTNER_MANAGER_ROLE").hex(),
    "policy": "0x" + keccak(b"POLICY_ROLE").hex(),
    "auditor": "0x" + keccak(b"AUDITOR_ROLE").hex(),
    "admin": "0x" + "00" * 32,
}
_ROLE_NAMES = {v: k for k, v in ROLE_IDS.items()}

# A pending session is flagged when it comes within this fraction of a plausibility bound.
FLAG_FRACTION = (8, 10)
_PENDING = 1
_ACCEPTED = 2
_MAX_CSV_ROWS = 100_000

_SESSION = EVENT_TABLES["plogging_session"]
_BATCH = EVENT_TABLES["plogging_batch"]
_BOUNDS = EVENT_TABLES["plogging_bounds_update"]

_WITH_REVIEW: Any = _SESSION.outerjoin(
    REVIEW, and_(REVIEW.c.chain_id == _SESSION.c.chain_id, REVIEW.c.digest == _SESSION.c.digest)
)
_STATUS: Any = func.coalesce(REVIEW.c.status, _SESSION.c.status)


def _in_areas(column: Any, areas: frozenset[int] | None) -> Any:
    return true() if areas is None else column.in_(sorted(areas))


# --- plogging: the verification queue, one session, committed sessions' proofs


def current_bounds(conn: Connection, *, chain_id: int) -> dict[str, int] | None:
    """The plausibility bounds last set on chain (PloggingBoundsUpdated), or None if never seen."""
    b = _BOUNDS.c
    row = conn.execute(
        select(_BOUNDS)
        .where(b.chain_id == chain_id)
        .order_by(b.block_number.desc(), b.log_index.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    keys = (
        "min_duration_seconds", "max_duration_seconds", "max_distance_meters", "max_speed_cm_per_second",
        "max_trash_grams", "max_age_seconds", "max_trash_grams_per_day", "max_sessions_per_day",
    )  # fmt: skip
    return {k: int(getattr(row, k)) for k in keys}


def _flag_conditions(bounds: dict[str, int] | None) -> dict[str, Any]:
    """Each flag's SQL condition: the session is within FLAG_FRACTION of that bound."""
    if bounds is None:
        return {}
    s = _SESSION.c
    num, den = FLAG_FRACTION
    return {
        "trash_near_max": s.trash_grams * den >= bounds["max_trash_grams"] * num,
        "distance_near_max": s.distance_meters * den >= bounds["max_distance_meters"] * num,
        # speed in cm/s = distance * 100 / duration, compared without division
        "speed_near_max": s.distance_meters * 100 * den
        >= bounds["max_speed_cm_per_second"] * num * s.duration_seconds,
        "duration_near_max": s.duration_seconds * den >= bounds["max_duration_seconds"] * num,
    }


def _history(conn: Connection, chain_id: int, residents: set[str]) -> dict[str, dict[str, int]]:
    """Each resident's recorded sessions by current status."""
    if not residents:
        return {}
    s = _SESSION.c
    out: dict[str, dict[str, int]] = {r: {n: 0 for n in SESSION_STATUSES.values()} for r in residents}
    rows = conn.execute(
        select(s.resident, _STATUS.label("st"), func.count())
        .select_from(_WITH_REVIEW)
        .where(s.chain_id == chain_id, s.resident.in_(sorted(residents)))
        .group_by(s.resident, _STATUS)
    )
    for resident, status, n in rows:
        out[resident][SESSION_STATUSES.get(status, str(status))] = int(n)
    return out


def _session_public(r: Any, flags: list[str]) -> dict[str, Any]:
    return {
        "digest": r.digest,
        "resident": r.resident,
        "distanceMeters": r.distance_meters,
        "durationSeconds": r.duration_seconds,
        "trashGrams": r.trash_grams,
        "areaCode": r.area_code,
        "startedAt": r.started_at,
        "evidenceHash": r.evidence_hash,
        "reward": r.reward,
        "flags": flags,
        **position(r),
    }


def verification_queue(
    conn: Connection,
    *,
    chain_id: int,
    now: int,
    areas: frozenset[int] | None = None,
    area_code: int | None = None,
    min_age_seconds: int | None = None,
    max_age_seconds: int | None = None,
    min_trash_grams: int | None = None,
    max_trash_grams: int | None = None,
    min_distance_meters: int | None = None,
    max_distance_meters: int | None = None,
    flagged: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Pending sessions, oldest first, each with its flags against the bounds and the resident's history.

    Age is counted from the session's start (`startedAt`) to `now`.
    """
    s = _SESSION.c
    conditions = _flag_conditions(current_bounds(conn, chain_id=chain_id))
    flag_columns = [cond.label(f"flag_{name}") for name, cond in conditions.items()]
    query: Select[Any] = (
        select(_SESSION, *flag_columns)
        .select_from(_WITH_REVIEW)
        .where(s.chain_id == chain_id, _STATUS == _PENDING, _in_areas(s.area_code, areas))
    )
    if area_code is not None:
        query = query.where(s.area_code == area_code)
    if min_age_seconds is not None:
        query = query.where(s.started_at <= now - min_age_seconds)
    if max_age_seconds is not None:
        query = query.where(s.started_at >= now - max_age_seconds)
    for column, low, high in (
        (s.trash_grams, min_trash_grams, max_trash_grams),
        (s.distance_meters, min_distance_meters, max_distance_meters),
    ):
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column <= high)
    if flagged is not None:
        any_flag = or_(false(), *conditions.values())
        query = query.where(any_flag if flagged else not_(any_flag))
    rows, total = paged(conn, query, [s.block_number, s.log_index], limit, offset)
    history = _history(conn, chain_id, {r.resident for r in rows})
    items = [
        _session_public(r, [n for n in conditions if getattr(r, f"flag_{n}")])
        | {"history": history.get(r.resident, {})}
        for r in rows
    ]
    return {"items": items, "total": total}


def session_detail(conn: Connection, *, chain_id: int, digest: str) -> dict[str, Any] | None:
    """One recorded session with its current status, review (verifier, reason code) and the
    resident's history; None if the mirror has no such session."""
    s = _SESSION.c
    row = conn.execute(
        select(_SESSION, _STATUS.label("current_status"), REVIEW.c.verifier, REVIEW.c.reason_code)
        .select_from(_WITH_REVIEW)
        .where(s.chain_id == chain_id, func.lower(s.digest) == digest.lower())
    ).first()
    if row is None:
        return None
    return _session_public(row, []) | {
        "status": SESSION_STATUSES.get(row.current_status, str(row.current_status)),
        "recordedStatus": SESSION_STATUSES.get(row.status, str(row.status)),
        "verifier": row.verifier,
        "reasonCode": row.reason_code,
        "history": _history(conn, chain_id, {row.resident}).get(row.resident, {}),
    }


def batch_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """The proof of leaf `index` in utils/BatchMerkle.sol's tree (sorted pairs, odd node carried up)."""
    proof: list[bytes] = []
    level = list(leaves)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        parents = [
            keccak(min(level[i], level[i + 1]) + max(level[i], level[i + 1]))
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            parents.append(level[-1])
        level, index = parents, index // 2
    return proof


def _leaf(digest: str, resident: str, reward: int) -> bytes:
    return keccak(
        bytes.fromhex(digest[2:]) + bytes(12) + bytes.fromhex(resident[2:]) + reward.to_bytes(32, "big")
    )


def committed_session(conn: Connection, *, chain_id: int, digest: str) -> dict[str, Any] | None:
    """An auto-accepted session as `PloggingRegistry.revokeCommitted` takes it — batchId, digest,
    resident, reward and its Merkle proof — rebuilt from the mirror; None if the session was not
    auto-accepted (or is unknown). The rebuilt root is checked against the committed one.

    The batch's leaves are the Accepted `PloggingRecorded` rows of the commit's transaction that lie
    between the registry's previous commit in that transaction (if any) and this commit.
    """
    s, b = _SESSION.c, _BATCH.c
    row = conn.execute(
        select(_SESSION).where(
            s.chain_id == chain_id, func.lower(s.digest) == digest.lower(), s.status == _ACCEPTED
        )
    ).first()
    if row is None:
        return None
    same_tx = (b.chain_id == chain_id, b.block_hash == row.block_hash, b.tx_hash == row.tx_hash)
    commit = conn.execute(
        select(_BATCH).where(*same_tx, b.log_index > row.log_index).order_by(b.log_index).limit(1)
    ).first()
    if commit is None:
        return None
    previous = conn.execute(
        select(b.log_index).where(*same_tx, b.log_index < row.log_index).order_by(b.log_index.desc()).limit(1)
    ).scalar()
    members = conn.execute(
        select(s.digest, s.resident, s.reward)
        .where(
            s.chain_id == chain_id,
            s.block_hash == row.block_hash,
            s.tx_hash == row.tx_hash,
            s.status == _ACCEPTED,
            s.log_index < commit.log_index,
            s.log_index > (-1 if previous is None else previous),
        )
        .order_by(s.log_index)
    ).all()
    leaves = [_leaf(m.digest, m.resident, int(m.reward)) for m in members]
    index = [m.digest for m in members].index(row.digest)
    proof = batch_proof(leaves, index)
    node = leaves[index]
    # recompute the root from the proof the way MerkleProof.verify will
    for sibling in proof:
        node = keccak(min(node, sibling) + max(node, sibling))
    if len(leaves) != commit.leaf_count or "0x" + node.hex() != commit.root.lower():
        raise ValueError(f"the mirror's batch {commit.batch_id} does not rebuild to its committed root")
    return {
        "batchId": int(commit.batch_id),
        "digest": row.digest,
        "resident": row.resident,
        "reward": int(row.reward),
        "proof": ["0x" + p.hex() for p in proof],
        "root": commit.root,
    }


# --- feedback: the queue and the overdue list


def feedback_queue(
    conn: Connection,
    *,
    chain_id: int,
    areas: frozenset[int] | None = None,
    status: str | None = None,
    category: str | None = None,
    area_code: int | None = None,
    hidden: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Feedback items for staff, oldest first (the order they are worked through); `category` is a
    category's name (case-insensitive)."""
    f = FEEDBACK_ITEM.c
    query = select(FEEDBACK_ITEM).where(f.chain_id == chain_id, _in_areas(f.area_code, areas))
    if status is not None:
        query = query.where(f.status == {v: k for k, v in FEEDBACK_STATUSES.items()}[status])
    if category is not None:
        ids = [i for i, n in categories(conn, chain_id).items() if n.lower() == category.lower()]
        query = query.where(f.category.in_(ids))
    if area_code is not None:
        query = query.where(f.area_code == area_code)
    if hidden is not None:
        query = query.where(f.hidden == hidden)
    rows, total = paged(conn, query, [f.item_id], limit, offset)
    return {"items": feedback_public(conn, chain_id, rows), "total": total}


def feedback_area(conn: Connection, *, chain_id: int, item_id: int) -> int | None:
    """The area code of item `item_id`, or None if the mirror does not have it."""
    f = FEEDBACK_ITEM.c
    area = conn.execute(select(f.area_code).where(f.chain_id == chain_id, f.item_id == item_id)).scalar()
    return None if area is None else int(area)


def overdue_items(
    conn: Connection,
    *,
    chain_id: int,
    now: int,
    areas: frozenset[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Items past their support threshold and not answered yet (nor hidden), soonest due first, each
    with `dueAt`, `daysLeft` (negative once overdue, floored) and `overdue`."""
    f = FEEDBACK_ITEM.c
    query = select(FEEDBACK_ITEM).where(
        f.chain_id == chain_id,
        f.answer_due_at.is_not(None),
        f.status.in_([1, 2]),  # Submitted, UnderReview
        f.hidden.is_(False),
        _in_areas(f.area_code, areas),
    )
    rows, total = paged(conn, query, [f.answer_due_at, f.item_id], limit, offset)
    items = [
        item
        | {
            "dueAt": r.answer_due_at,
            "daysLeft": (r.answer_due_at - now) // 86_400,
            "overdue": r.answer_due_at < now,
        }
        for item, r in zip(feedback_public(conn, chain_id, rows), rows, strict=True)
    ]
    return {"items": items, "total": total}


# --- the admin log and role members


def _admin_query(
    chain_id: int,
    actor: str | None,
    action: str | None,
    contract: str | None,
    subject: str | None,
    from_block: int | None,
    to_block: int | None,
) -> Select[Any]:
    a = ADMIN_ACTION.c
    query = select(ADMIN_ACTION).where(a.chain_id == chain_id)
    if actor is not None:
        query = query.where(a.actor == to_checksum_address(actor))
    if action is not None:
        query = query.where(a.action == action)
    if contract is not None:
        query = query.where(a.contract == to_checksum_address(contract))
    if subject is not None:
        query = query.where(func.lower(a.subject) == subject.lower())
    if from_block is not None:
        query = query.where(a.block_number >= from_block)
    if to_block is not None:
        query = query.where(a.block_number <= to_block)
    return query


def _admin_public(r: Any, names: dict[str, str]) -> dict[str, Any]:
    details = json.loads(r.details)
    if "role" in details:
        details["roleName"] = _ROLE_NAMES.get(str(details["role"]).lower())
    return {
        "contract": r.contract,
        "contractName": names.get(r.contract),
        "action": r.action,
        "actor": r.actor,
        "subject": r.subject,
        "details": details,
        **position(r),
    }


def admin_log(
    conn: Connection,
    *,
    chain_id: int,
    contract_names: dict[str, str],
    actor: str | None = None,
    action: str | None = None,
    contract: str | None = None,
    subject: str | None = None,
    from_block: int | None = None,
    to_block: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Admin actions, newest first: who (`actor`), what (`action`, `subject`, `details`), when
    (block range), on which contract. `contract_names` maps addresses to the deployment's names."""
    a = ADMIN_ACTION.c
    query = _admin_query(chain_id, actor, action, contract, subject, from_block, to_block)
    rows, total = paged(conn, query, [a.block_number.desc(), a.log_index.desc()], limit, offset)
    return {"items": [_admin_public(r, contract_names) for r in rows], "total": total}


def admin_log_rows(
    conn: Connection,
    *,
    chain_id: int,
    contract_names: dict[str, str],
    actor: str | None = None,
    action: str | None = None,
    contract: str | None = None,
    subject: str | None = None,
    from_block: int | None = None,
    to_block: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The same entries, oldest first, for an export (at most 100,000)."""
    a = ADMIN_ACTION.c
    query = _admin_query(chain_id, actor, action, contract, subject, from_block, to_block)
    for r in conn.execute(query.order_by(a.block_number, a.log_index).limit(_MAX_CSV_ROWS)):
        yield _admin_public(r, contract_names)


def role_members(
    conn: Connection, *, chain_id: int, contract_names: dict[str, str], account: str | None = None
) -> list[dict[str, Any]]:
    """Current staff role holders as mirrored from RoleGranted / RoleRevoked (staff roles only)."""
    m = ROLE_MEMBER.c
    query = select(ROLE_MEMBER).where(m.chain_id == chain_id, m.role.in_(list(ROLE_IDS.values())))
    if account is not None:
        query = query.where(m.account == to_checksum_address(account))
    return [
        {
            "contract": r.contract,
            "contractName": contract_names.get(r.contract),
            "role": _ROLE_NAMES[r.role],
            "roleId": r.role,
            "account": r.account,
            "grantedBy": r.granted_by,
            "updatedBlock": r.updated_block,
        }
        for r in conn.execute(query.order_by(m.account, m.role, m.contract))
    ]


# --- policy in force, as last set on chain


def _latest_row(conn: Connection, table_name: str, chain_id: int) -> Any:
    t = EVENT_TABLES[table_name]
    return conn.execute(
        select(t)
        .where(t.c.chain_id == chain_id)
        .order_by(t.c.block_number.desc(), t.c.log_index.desc())
        .limit(1)
    ).first()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() if not p.isdigit() else p for p in rest)


def _fields(row: Any, *columns: str) -> dict[str, Any] | None:
    if row is None:
        return None
    return {_camel(c): getattr(row, c) for c in columns} | {
        "by": row.by_address,
        "blockNumber": row.block_number,
    }


def policy(conn: Connection, *, chain_id: int) -> dict[str, Any]:
    """The reward rates, plausibility bounds and caps, auto-accept thresholds, feedback settings,
    accepted-feedback reward and categories, each as its latest event set it (null if never seen)."""
    bounds = current_bounds(conn, chain_id=chain_id)
    b = _latest_row(conn, "plogging_bounds_update", chain_id)
    fc = EVENT_TABLES["feedback_category_set"]
    c = conn.execute(
        select(fc).where(fc.c.chain_id == chain_id).order_by(fc.c.block_number, fc.c.log_index)
    ).all()
    latest_category = {r.category: r for r in c}
    return {
        "reward": _fields(_latest_row(conn, "plogging_reward_update", chain_id), "per_km", "per_100_grams"),
        "bounds": None
        if bounds is None
        else {_camel(k): v for k, v in bounds.items()} | {"by": b.by_address, "blockNumber": b.block_number},
        "thresholds": _fields(
            _latest_row(conn, "plogging_thresholds_update", chain_id),
            "max_distance_meters",
            "max_trash_grams",
            "max_reward",
        ),
        "feedbackSettings": _fields(
            _latest_row(conn, "feedback_settings_update", chain_id),
            "support_threshold",
            "answer_window_seconds",
            "max_submissions_per_day",
            "max_supports_per_day",
        ),
        "acceptedFeedbackReward": _fields(_latest_row(conn, "feedback_reward_update", chain_id), "reward"),
        "categories": [
            {"id": r.category, "name": r.name, "enabled": r.enabled, "by": r.by_address}
            for _, r in sorted(latest_category.items())
        ],
    }
