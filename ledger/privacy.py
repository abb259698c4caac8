"""Privacy erasure: a resident's personal data removed from SQL, every hash kept, the erasure logged.

What a resident's personal data is here (docs/audit.md, "Privacy erasure", lists every column):

- `feedback_content.content` and `.salt`: their opinions' texts, and the salt without which the
  on-chain hash cannot be tested against guesses (`ledger.feedback.erase_content`). `content_hash`
  stays: it is what the chain and the mirror hold.
- `custodial_wallet`: the platform's user id for them (`subject`, "<platform>:<user>") and the
  sealed key of their address. The row goes: the city can no longer sign for the address, and
  nothing links the address to the platform's user. (A resident who wants their points first takes
  the key with the custody export.)
- `webhook_delivery.result`: the answers kept for a platform's retries name the user id beside the
  address; the user id is blanked in those entries.
- `resident_session`: their sign-in sessions (bearer token hashes) are deleted.
- `assisted_action.reference`: the service desk's case reference for the person is replaced by
  `ERASED_REFERENCE`; the row stays (who assisted, the consent hash, the action), as the audit of
  the assistance.

What stays: the address, a pseudonym the chain keeps anyway, in the outbox and the mirror, with every
hash, so `esg-ledger audit reconcile`, the exports and the report are unchanged. Official answers
stay too: they are the city's public statements, checked against the chain by their plain hash.

Every erasure writes one `privacy_erasure` row: who asked, when, which resident, and how many rows of
each table it changed; never the erased values.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Text, delete, func, select, update
from sqlmodel import Field, Session, SQLModel, col

from .desk import AssistedAction
from .errors import PrivacyError
from .feedback import FeedbackContent, erase_content
from .models import CustodialWallet
from .platforms.models import WebhookDelivery
from .resident_sessions import ResidentSession
from .types import Address, parse_checksummed

__all__ = ["ERASED_TABLES", "Erasure", "PrivacyErasure", "erase_resident", "erasures"]

log = logging.getLogger(__name__)

# Every table an erasure may change, in the order it changes them (the log's `counts` keys).
ERASED_TABLES = (
    "feedback_content",
    "custodial_wallet",
    "webhook_delivery",
    "resident_session",
    "assisted_action",
)
ERASED_REFERENCE = "(erased)"  # outside the desk references' pattern, so never a live reference
MAX_ACTOR = 200


class PrivacyErasure(SQLModel, table=True):
    """One erasure: who asked (`erased_by`: a staff member's address, or the CLI's operator), when,
    which resident, and the rows changed per table (JSON) — never the erased data."""

    __tablename__ = "privacy_erasure"

    id: int | None = Field(default=None, primary_key=True)
    resident: str = Field(max_length=42, index=True)
    erased_by: str = Field(max_length=MAX_ACTOR)
    erased_at: float
    counts: str = Field(sa_column=Column(Text, nullable=False))


@dataclass(frozen=True)
class Erasure:
    id: int
    resident: Address
    erased_by: str
    erased_at: float
    counts: dict[str, int]

    @classmethod
    def of(cls, row: PrivacyErasure) -> Erasure:
        assert row.id is not None
        return cls(row.id, Address(row.resident), row.erased_by, row.erased_at, json.loads(row.counts))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resident": self.resident,
            "erasedBy": self.erased_by,
            "erasedAt": self.erased_at,
            "counts": self.counts,
        }


def _same(column: Any, address: str) -> Any:
    return func.lower(column) == address.lower()


def _redact_deliveries(session: Session, address: str) -> int:
    """Blanks the user id in stored webhook answers' entries for `address`; returns the rows changed."""
    changed = 0
    pattern = f"%{address.lower()[2:]}%"
    candidates = session.scalars(
        select(WebhookDelivery).where(func.lower(WebhookDelivery.result).like(pattern))
    )
    for row in candidates:
        body = json.loads(row.result or "null")
        entries = body.get("results") if isinstance(body, dict) else None
        hit = False
        for entry in entries if isinstance(entries, list) else []:
            mine = isinstance(entry, dict) and str(entry.get("resident", "")).lower() == address.lower()
            if mine and entry.get("userId") is not None:
                entry["userId"], hit = None, True
        if hit:
            row.result = json.dumps(body, separators=(",", ":"))
            session.add(row)
            changed += 1
    return changed


def erase_resident(*, session: Session, resident: str, erased_by: str, now: float) -> Erasure:
    """Erases `resident`'s personal data (see the module's docstring) and logs it, in the caller's
    transaction. Erasing again erases nothing more and is logged again, with zero counts."""
    try:
        address = parse_checksummed(resident)
    except (ValueError, TypeError):
        raise PrivacyError("not an address (0x and 40 hex digits)", field="resident") from None
    if not erased_by.strip() or len(erased_by) > MAX_ACTOR:
        raise PrivacyError(f"name who erases (1 to {MAX_ACTOR} characters)", field="erased_by")
    counts = dict.fromkeys(ERASED_TABLES, 0)
    texts = session.scalars(
        select(col(FeedbackContent.content_hash)).where(
            _same(FeedbackContent.resident, address),
            FeedbackContent.content.is_not(None),  # type: ignore[union-attr]
        )
    ).all()
    for content_hash in texts:
        counts["feedback_content"] += erase_content(
            session=session, content_hash=content_hash, reason="privacy erasure"
        )
    counts["webhook_delivery"] = _redact_deliveries(session, address)
    counts["custodial_wallet"] = _delete(session, CustodialWallet, CustodialWallet.address, address)
    counts["resident_session"] = _delete(session, ResidentSession, ResidentSession.address, address)
    assisted = session.execute(
        update(AssistedAction)
        .where(_same(AssistedAction.resident, address), col(AssistedAction.reference) != ERASED_REFERENCE)
        .values(reference=ERASED_REFERENCE)
    )
    counts["assisted_action"] = int(getattr(assisted, "rowcount", 0) or 0)
    row = PrivacyErasure(resident=address, erased_by=erased_by, erased_at=now, counts=json.dumps(counts))
    session.add(row)
    session.flush()
    log.info("privacy erasure %s of %s by %s: %s", row.id, address, erased_by, counts)
    return Erasure.of(row)


def _delete(session: Session, model: Any, column: Any, address: str) -> int:
    result = session.execute(delete(model).where(_same(column, address)))
    return int(getattr(result, "rowcount", 0) or 0)


def erasures(
    *, session: Session, resident: str | None = None, limit: int = 100, offset: int = 0
) -> list[Erasure]:
    """The erasure log, newest first; only `resident`'s with one."""
    query = select(PrivacyErasure)
    if resident is not None:
        query = query.where(_same(PrivacyErasure.resident, resident))
    query = query.order_by(PrivacyErasure.id.desc()).limit(limit).offset(offset)  # type: ignore[union-attr]
    return [Erasure.of(r) for r in session.scalars(query)]
