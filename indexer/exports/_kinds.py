"""What each export kind selects: its columns (in a fixed order, each documented), its filters, and
the SQL that reads them. Every row leads with its log's anchor, the `raw_log` row it was decoded from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy import ColumnElement, Select, Table, and_, case, literal, or_, select

from ledger.errors import AuditQueryError

from ..models import (
    ADMIN_ACTION,
    CAMPAIGN,
    EVENT_TABLES,
    FEEDBACK_CATEGORY,
    FEEDBACK_ITEM,
    PLOGGING_REVIEW,
    RAW_LOG,
)

SESSION_STATUSES = {1: "pending", 2: "accepted", 3: "rejected", 4: "revoked"}
FEEDBACK_STATUSES = {1: "submitted", 2: "under_review", 3: "answered", 4: "closed"}

ANCHOR: tuple[tuple[str, str], ...] = (
    ("chain_id", "The chain's id (EIP-155)."),
    ("contract", "The address of the contract that emitted the log."),
    ("tx_hash", "The transaction that carried it."),
    ("log_index", "The log's index in its block."),
    ("block_number", "The block it is in."),
    ("block_hash", "That block's hash: with log_index, the log's natural key."),
)


@dataclass(frozen=True)
class Filters:
    """An export's filters; `None` means any. The period is a block range (periods.BlockPeriod)."""

    first_block: int | None = None
    last_block: int | None = None
    area: int | None = None
    campaign: int | None = None
    status: str | None = None
    resident: str | None = None


@dataclass(frozen=True)
class ExportKind:
    name: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (name, description), anchor first
    filters: frozenset[str]  # of area, campaign, status, resident (the period always applies)
    statuses: tuple[str, ...]
    build: Callable[[int, Filters], Select[Any]]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


def _named(column: Any, names: dict[int, str]) -> ColumnElement[Any]:
    return case(*((column == k, literal(v)) for k, v in names.items()), else_=literal("unknown"))


def _code(status: str, names: dict[int, str]) -> int:
    return {v: k for k, v in names.items()}[status]


def _anchored(table: Table) -> tuple[Any, list[Any]]:
    """`table` joined to its raw log, and the anchor columns in order."""
    t, raw = table.c, RAW_LOG.c
    joined = table.join(
        RAW_LOG,
        and_(
            raw.chain_id == t.chain_id,
            raw.block_number == t.block_number,
            raw.log_index == t.log_index,
            raw.block_hash == t.block_hash,
        ),
    )
    columns = [
        t.chain_id,
        raw.address.label("contract"),
        t.tx_hash,
        t.log_index,
        t.block_number,
        t.block_hash,
    ]
    return joined, columns


def _common(table: Table, chain_id: int, f: Filters) -> list[Any]:
    t = table.c
    where: list[Any] = [t.chain_id == chain_id]
    if f.first_block is not None:
        where.append(t.block_number >= f.first_block)
    if f.last_block is not None:
        where.append(t.block_number <= f.last_block)
    if f.resident is not None and "resident" in t:
        where.append(t.resident == to_checksum_address(f.resident))
    return where


def _campaign_value(chain_id: int, campaign: int, column: str) -> Any:
    c = CAMPAIGN.c
    return select(c[column]).where(c.chain_id == chain_id, c.campaign_id == campaign).scalar_subquery()


_SESSION = EVENT_TABLES["plogging_session"]
_CURRENT = case((PLOGGING_REVIEW.c.status.is_not(None), PLOGGING_REVIEW.c.status), else_=_SESSION.c.status)


def _plogging(chain_id: int, f: Filters) -> Select[Any]:
    s, r = _SESSION.c, PLOGGING_REVIEW.c
    joined, anchor = _anchored(_SESSION)
    joined = joined.outerjoin(PLOGGING_REVIEW, and_(r.chain_id == s.chain_id, r.digest == s.digest))
    where = _common(_SESSION, chain_id, f)
    if f.area is not None:
        where.append(s.area_code == f.area)
    if f.status is not None:
        where.append(_code(f.status, SESSION_STATUSES) == _CURRENT)
    if f.campaign is not None:
        where += [
            # Area 0 is the whole city (as the contracts and the bonus rule read it).
            or_(
                _campaign_value(chain_id, f.campaign, "area_code") == 0,
                s.area_code == _campaign_value(chain_id, f.campaign, "area_code"),
            ),
            s.started_at >= _campaign_value(chain_id, f.campaign, "starts_at"),
            s.started_at < _campaign_value(chain_id, f.campaign, "ends_at"),
        ]
    return (
        select(
            *anchor,
            s.digest,
            s.resident,
            s.nonce,
            s.distance_meters,
            s.duration_seconds,
            s.trash_grams,
            s.area_code,
            s.started_at,
            s.evidence_hash,
            _named(s.status, SESSION_STATUSES).label("recorded_status"),
            s.reward.label("recorded_reward"),
            _named(_CURRENT, SESSION_STATUSES).label("status"),
            r.verifier.label("reviewer"),
            r.reason_code,
            r.minted,
            r.burned,
            r.updated_block.label("reviewed_block"),
        )
        .select_from(joined)
        .where(*where)
    )


def _latest(name: str, column: str, submission: Any) -> Any:
    t = EVENT_TABLES[name].c
    return (
        select(t[column])
        .where(t.chain_id == submission.chain_id, t.item_id == submission.item_id)
        .order_by(t.block_number.desc(), t.log_index.desc())
        .limit(1)
        .scalar_subquery()
    )


_SUBMISSION = EVENT_TABLES["feedback_submission"]


def _feedback(chain_id: int, f: Filters) -> Select[Any]:
    s, i, cat = _SUBMISSION.c, FEEDBACK_ITEM.c, FEEDBACK_CATEGORY.c
    joined, anchor = _anchored(_SUBMISSION)
    joined = joined.join(FEEDBACK_ITEM, and_(i.chain_id == s.chain_id, i.item_id == s.item_id)).outerjoin(
        FEEDBACK_CATEGORY, and_(cat.chain_id == s.chain_id, cat.category == s.category)
    )
    where = _common(_SUBMISSION, chain_id, f)
    if f.area is not None:
        where.append(s.area_code == f.area)
    if f.status is not None:
        where.append(i.status == _code(f.status, FEEDBACK_STATUSES))
    return (
        select(
            *anchor,
            s.item_id,
            s.digest,
            s.resident,
            s.category,
            cat.name.label("category_name"),
            s.area_code,
            s.content_hash,
            s.nonce,
            _named(i.status, FEEDBACK_STATUSES).label("status"),
            i.support_count.label("supports"),
            i.answer_due_at.is_not(None).label("threshold_reached"),
            i.answer_due_at,
            _latest("feedback_review_start", "block_number", s).label("review_block"),
            i.accepted,
            i.answer_hash,
            i.reward.label("answer_reward"),
            _latest("feedback_answer", "block_number", s).label("answer_block"),
            _latest("feedback_answer", "tx_hash", s).label("answer_tx_hash"),
            _latest("feedback_closure", "block_number", s).label("closed_block"),
            i.hidden,
            _latest("feedback_moderation", "reason_code", s).label("moderation_reason_code"),
            _latest("feedback_moderation", "block_number", s).label("moderated_block"),
        )
        .select_from(joined)
        .where(*where)
    )


def _simple(name: str, *fields: str) -> Callable[[int, Filters], Select[Any]]:
    table = EVENT_TABLES[name]

    def build(chain_id: int, f: Filters) -> Select[Any]:
        joined, anchor = _anchored(table)
        where = _common(table, chain_id, f)
        t = table.c
        if f.campaign is not None:
            where.append(t.campaign_id == f.campaign)
        if f.area is not None:  # claims: the campaign's area
            c = CAMPAIGN.c
            campaigns = select(c.campaign_id).where(c.chain_id == chain_id, c.area_code == f.area)
            where.append(t.campaign_id.in_(campaigns))
        return select(*anchor, *(t[x] for x in fields)).select_from(joined).where(*where)

    return build


def _admin(chain_id: int, f: Filters) -> Select[Any]:
    a = ADMIN_ACTION.c
    where = _common(ADMIN_ACTION, chain_id, f)
    return select(
        a.chain_id, a.contract, a.tx_hash, a.log_index, a.block_number, a.block_hash,
        a.action, a.actor, a.subject, a.details,
    ).where(*where)  # fmt: skip


def _cols(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return ANCHOR + pairs


_DIGEST = ("digest", "The resident's EIP-712 digest of the signed action (the action id).")
_RESIDENT = ("resident", "The resident's address (who signed).")
_NONCE = ("nonce", "The resident's replay nonce for the contract.")

KINDS: dict[str, ExportKind] = {
    k.name: k
    for k in (
        ExportKind(
            "plogging",
            "Plogging sessions with their reviews",
            _cols(
                _DIGEST,
                _RESIDENT,
                _NONCE,
                ("distance_meters", "Distance, metres (as signed)."),
                ("duration_seconds", "Duration, seconds."),
                ("trash_grams", "Litter collected, grams."),
                ("area_code", "The area code (행정구역 code) the session was in."),
                ("started_at", "Start, unix seconds (as signed by the resident)."),
                ("evidence_hash", "Hash of the off-chain evidence (photo, GPS track)."),
                ("recorded_status", "Status when recorded: accepted (auto) or pending (waits for review)."),
                ("recorded_reward", "Points minted at recording (0 while pending)."),
                ("status", "Current status: pending, accepted, rejected or revoked."),
                ("reviewer", "The verifier of the latest review (empty: never reviewed)."),
                ("reason_code", "The rejection or revocation reason code."),
                ("minted", "Points minted on verification."),
                ("burned", "Points burned on revocation."),
                ("reviewed_block", "Block of the latest review event."),
            ),
            frozenset({"area", "campaign", "status", "resident"}),
            tuple(SESSION_STATUSES.values()),
            _plogging,
        ),
        ExportKind(
            "feedback",
            "Feedback items with supports, answers and moderation",
            _cols(
                ("item_id", "The item's id in the FeedbackBox."),
                _DIGEST,
                ("resident", "The author's address."),
                ("category", "The category id."),
                ("category_name", "The category's name as set on chain."),
                ("area_code", "The area code."),
                ("content_hash", "keccak256 of the text (the text stays off-chain, erasable)."),
                _NONCE,
                ("status", "Current status: submitted, under_review, answered or closed."),
                ("supports", "Residents who supported it."),
                ("threshold_reached", "Whether supports reached the threshold that obliges an answer."),
                ("answer_due_at", "When the obliged answer is due, unix seconds."),
                ("review_block", "Block of the latest review start."),
                ("accepted", "The answer's verdict: accepted (true) or rejected (false)."),
                ("answer_hash", "keccak256 of the official answer's text."),
                ("answer_reward", "Points minted to the author on an accepted answer."),
                ("answer_block", "Block of the answer."),
                ("answer_tx_hash", "Transaction of the answer."),
                ("closed_block", "Block of the closure."),
                ("hidden", "Hidden by moderation now."),
                ("moderation_reason_code", "The latest moderation's reason code."),
                ("moderated_block", "Block of the latest moderation."),
            ),
            frozenset({"area", "status", "resident"}),
            tuple(FEEDBACK_STATUSES.values()),
            _feedback,
        ),
        ExportKind(
            "redemptions",
            "Redemptions at partners",
            _cols(
                _DIGEST,
                _RESIDENT,
                ("partner", "The partner's address."),
                ("amount", "Points redeemed."),
                ("offer_hash", "Hash of the partner's offer."),
                ("burned", "Whether the points were burned (else moved to the partner)."),
                _NONCE,
            ),
            frozenset({"resident"}),
            (),
            _simple("redemption", "digest", "resident", "partner", "amount", "offer_hash", "burned", "nonce"),
        ),
        ExportKind(
            "donations",
            "Donations to causes",
            _cols(
                _DIGEST,
                _RESIDENT,
                ("cause_id", "The cause's id."),
                ("wallet", "The cause's wallet that received the points."),
                ("amount", "Points donated."),
                _NONCE,
            ),
            frozenset({"resident"}),
            (),
            _simple("donation", "digest", "resident", "cause_id", "wallet", "amount", "nonce"),
        ),
        ExportKind(
            "claims",
            "Campaign bonus claims",
            _cols(
                ("campaign_id", "The campaign's id."),
                _DIGEST,
                _RESIDENT,
                ("amount", "Bonus points claimed."),
            ),
            frozenset({"area", "campaign", "resident"}),
            (),
            _simple("bonus_claim", "campaign_id", "digest", "resident", "amount"),
        ),
        ExportKind(
            "admin",
            "The admin log: role, policy, review, moderation, campaign and directory changes",
            (
                (
                    *ANCHOR[:1],
                    ("contract", "The contract the admin action was on (and emitted by)."),
                    *ANCHOR[2:],
                    ("action", "The event's name."),
                    ("actor", "Who did it: the staff member's own address."),
                    ("subject", "What it was done to: a digest, item id, address, …"),
                    ("details", "The event's fields, as JSON."),
                )
            ),
            frozenset(),
            (),
            _admin,
        ),
    )
}


def query(kind: str, chain_id: int, filters: Filters) -> tuple[ExportKind, Select[Any]]:
    """The kind and its filtered query, oldest log first; refuses filters that do not apply."""
    spec = KINDS.get(kind)
    if spec is None:
        raise AuditQueryError(f"no export {kind!r}; the kinds are {', '.join(KINDS)}", field="kind")
    for name in ("area", "campaign", "status", "resident"):
        if getattr(filters, name) is not None and name not in spec.filters:
            raise AuditQueryError(f"does not apply to {kind}", field=name)
    if filters.status is not None and filters.status not in spec.statuses:
        raise AuditQueryError(f"{kind} statuses are {', '.join(spec.statuses)}", field="status")
    built = spec.build(chain_id, filters)
    return spec, built
