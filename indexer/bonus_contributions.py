"""A campaign's bonus computed from the mirror: its terms and snapshot from the campaign event tables,
the contributions from the plogging or feedback event tables, split by `ledger.bonus_rules` (the
same fold `esg-ledger rewards rebuild` runs over logs fetched from a node)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ledger.bonus_rules import BonusRule, CampaignTerms, Distribution, contributions, distribute
from ledger.errors import BonusRuleError

from .models import EVENT_TABLES

__all__ = ["campaign_distribution", "campaign_terms"]

_REVIEWS = {"plogging_verification": 2, "plogging_rejection": 3, "plogging_revocation": 4}


def _rows(conn: Connection, table: str, chain_id: int, *where: Any, upto: int | None = None) -> list[Any]:
    t = EVENT_TABLES[table]
    query = select(t).where(t.c.chain_id == chain_id, *where)
    if upto is not None:
        query = query.where(t.c.block_number <= upto)
    return [dict(r) for r in conn.execute(query.order_by(t.c.block_number, t.c.log_index)).mappings()]


def campaign_terms(conn: Connection, *, chain_id: int, campaign_id: int) -> CampaignTerms:
    """The campaign's terms and finalization as the mirror has them; BonusRuleError if it has none."""
    created = _rows(
        conn, "campaign_creation", chain_id, EVENT_TABLES["campaign_creation"].c.campaign_id == campaign_id
    )
    if not created:
        raise BonusRuleError(f"the mirror has no campaign {campaign_id} (is the indexer behind?)")
    fin = EVENT_TABLES["campaign_finalization"]
    finalized = _rows(conn, "campaign_finalization", chain_id, fin.c.campaign_id == campaign_id)
    return CampaignTerms.from_rows(created[0], finalized[-1] if finalized else None)


def campaign_distribution(
    conn: Connection, *, chain_id: int, campaign_id: int, rule: BonusRule, pool: int
) -> Distribution:
    """The campaign's bonus by `rule`, split from `pool`, from the mirror's event rows up to its snapshot."""
    terms = campaign_terms(conn, chain_id=chain_id, campaign_id=campaign_id)
    block = terms.snapshot()[0]
    metric = rule.on(terms).metric
    assert metric is not None
    if metric == "accepted_feedback":
        weights = contributions(
            terms,
            metric,
            submissions=_rows(conn, "feedback_submission", chain_id, upto=block),
            answers=_rows(conn, "feedback_answer", chain_id, upto=block),
        )
    else:
        reviews = [(r, s) for table, s in _REVIEWS.items() for r in _rows(conn, table, chain_id, upto=block)]
        sessions = _rows(conn, "plogging_session", chain_id, upto=block)
        weights = contributions(terms, metric, sessions=sessions, reviews=reviews)
    return distribute(terms, rule, pool, weights)
