"""Shared mirror queries: a plogging session's current status is its review's, if it has one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func

from indexer.models import EVENT_TABLES, PLOGGING_REVIEW

SESSION = EVENT_TABLES["plogging_session"]
ACCEPTED = 2  # IPloggingRegistry.SessionStatus.Accepted
STATUS_NAMES = {1: "pending", 2: "accepted", 3: "rejected", 4: "revoked"}

# recorded sessions joined with their review (verify / reject / revoke), if any
SESSIONS_WITH_REVIEW: Any = SESSION.outerjoin(
    PLOGGING_REVIEW,
    and_(PLOGGING_REVIEW.c.chain_id == SESSION.c.chain_id, PLOGGING_REVIEW.c.digest == SESSION.c.digest),
)
CURRENT_STATUS: Any = func.coalesce(PLOGGING_REVIEW.c.status, SESSION.c.status)
