"""ESG metrics by period, area and campaign, each figure with the SQL that computed it.

Every family of figures starts from a *population*: the mirror rows the figures count, each with
its log's anchor. The figures are aggregates over it, and the report's `anchors.csv` lists it.
Each `Figure` names its query, and `MetricSet.queries` holds that SQL as it ran (literal values
bound in), so an auditor can run it again against the mirror.

Periods are block ranges (exports/periods.py): a row belongs to the period its log's block is in.
Sessions count once they are accepted *now*: a later rejection or revocation takes a session out of
every period. Waste mapping and its assumptions: docs/audit.md#esg-metrics.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, distinct, func, or_, select

from ledger.errors import AuditQueryError

from .exports._kinds import _anchored, _campaign_value
from .exports.periods import KST, BlockClock, BlockPeriod
from .models import CAMPAIGN, EVENT_TABLES, PLOGGING_REVIEW

__all__ = ["GROUPINGS", "Figure", "MetricSet", "metrics", "metrics_by", "populations"]

GROUPINGS = ("area", "campaign", "month")
ZERO = "0x0000000000000000000000000000000000000000"
_ACCEPTED = 2
_S = EVENT_TABLES["plogging_session"]
_SUB = EVENT_TABLES["feedback_submission"]
_TRANSFER = EVENT_TABLES["token_transfer"]


@dataclass
class Figure:
    value: int | float | None
    unit: str
    query: str
    note: str | None = None


@dataclass
class MetricSet:
    chain_id: int
    first_block: int
    last_block: int
    group: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "firstBlock": self.first_block,
            "lastBlock": self.last_block,
            "group": self.group,
            "figures": {
                k: {"value": f.value, "unit": f.unit, "query": f.query, "note": f.note}
                for k, f in self.figures.items()
            },
            "queries": self.queries,
        }


def _in(t: Any, p: BlockPeriod) -> Any:
    return and_(t.block_number >= p.first, t.block_number <= p.last)


def _sessions(chain_id: int, p: BlockPeriod, area: int | None, campaign: int | None) -> Select[Any]:
    """Accepted sessions recorded in the period (in the area / the campaign's area and window)."""
    s, r = _S.c, PLOGGING_REVIEW.c
    joined, anchor = _anchored(_S)
    joined = joined.outerjoin(PLOGGING_REVIEW, and_(r.chain_id == s.chain_id, r.digest == s.digest))
    where: list[Any] = [s.chain_id == chain_id, _in(s, p), func.coalesce(r.status, s.status) == _ACCEPTED]
    if area is not None:
        where.append(s.area_code == area)
    if campaign is not None:
        where += [
            # Area 0 is the whole city (as the contracts and the bonus rule read it).
            or_(
                _campaign_value(chain_id, campaign, "area_code") == 0,
                s.area_code == _campaign_value(chain_id, campaign, "area_code"),
            ),
            s.started_at >= _campaign_value(chain_id, campaign, "starts_at"),
            s.started_at < _campaign_value(chain_id, campaign, "ends_at"),
        ]
    columns = [s.resident, s.distance_meters, s.trash_grams, s.area_code]
    return select(*anchor, *columns).select_from(joined).where(*where)


def _submissions(chain_id: int, p: BlockPeriod, area: int | None) -> Select[Any]:
    """Feedback submitted in the period, with how far each got by the period's last block."""
    s = _SUB.c
    joined, anchor = _anchored(_SUB)

    def first(name: str, column: str = "block_number") -> Any:
        t = EVENT_TABLES[name].c
        return (
            select(func.min(t[column]))
            .where(t.chain_id == s.chain_id, t.item_id == s.item_id, t.block_number <= p.last)
            .scalar_subquery()
        )

    where = [s.chain_id == chain_id, _in(s, p)] + ([s.area_code == area] if area is not None else [])
    return (
        select(
            *anchor,
            s.item_id,
            s.area_code,
            first("feedback_support").label("supported_block"),
            first("feedback_answer_required").label("required_block"),
            first("feedback_answer_required", "due_at").label("due_at"),
            first("feedback_answer").label("answer_block"),
            first("feedback_closure").label("closed_block"),
        )
        .select_from(joined)
        .where(*where)
    )


def _transfers(chain_id: int, p: BlockPeriod, direction: str, cumulative: bool = False) -> Select[Any]:
    t = _TRANSFER.c
    joined, anchor = _anchored(_TRANSFER)
    side = t.from_address if direction == "mint" else t.to_address
    period = t.block_number <= p.last if cumulative else _in(t, p)
    return select(*anchor, t.value).select_from(joined).where(t.chain_id == chain_id, side == ZERO, period)


def _amounts(name: str, chain_id: int, p: BlockPeriod) -> Select[Any]:
    t = EVENT_TABLES[name].c
    joined, anchor = _anchored(EVENT_TABLES[name])
    return select(*anchor, t.amount).select_from(joined).where(t.chain_id == chain_id, _in(t, p))


def populations(
    chain_id: int, p: BlockPeriod, *, area: int | None = None, campaign: int | None = None
) -> dict[str, Select[Any]]:
    """The named row sets behind the figures; each row leads with its anchor (exports.ANCHOR)."""
    out = {"plogging_accepted_sessions": _sessions(chain_id, p, area, campaign)}
    if campaign is None:
        out["feedback_submissions"] = _submissions(chain_id, p, area)
    if area is None and campaign is None:
        out |= {
            "token_mints": _transfers(chain_id, p, "mint"),
            "token_burns": _transfers(chain_id, p, "burn"),
            "redemptions": _amounts("redemption", chain_id, p),
            "donations": _amounts("donation", chain_id, p),
        }
    return out


class _Run:
    def __init__(self, conn: Connection, result: MetricSet) -> None:
        self.conn, self.result = conn, result

    def sql(self, name: str, statement: Any) -> str:
        self.result.queries[name] = str(
            statement.compile(dialect=self.conn.dialect, compile_kwargs={"literal_binds": True})
        )
        return name

    def one(self, name: str, statement: Any) -> Any:
        self.sql(name, statement)
        return self.conn.execute(statement).one()

    def put(
        self, key: str, value: int | float | None, unit: str, query: str, note: str | None = None
    ) -> None:
        self.result.figures[key] = Figure(value, unit, query, note)


def _participation(run: _Run, chain_id: int, sessions: Select[Any]) -> None:
    pop = sessions.subquery("sessions")
    q = run.one(
        "participation",
        select(
            func.count(distinct(pop.c.resident)),
            func.count(),
            func.coalesce(func.sum(pop.c.distance_meters), 0),
            func.coalesce(func.sum(pop.c.trash_grams), 0),
        ).select_from(pop),
    )
    s, r = _S.c, PLOGGING_REVIEW.c
    firsts = (
        select(s.resident, func.min(s.block_number).label("first_block"))
        .select_from(_S.outerjoin(PLOGGING_REVIEW, and_(r.chain_id == s.chain_id, r.digest == s.digest)))
        .where(s.chain_id == chain_id, func.coalesce(r.status, s.status) == _ACCEPTED)
        .group_by(s.resident)
        .subquery("firsts")
    )
    first_time = run.one(
        "first_time_participants",
        select(func.count(distinct(pop.c.resident))).select_from(
            pop.join(
                firsts, and_(firsts.c.resident == pop.c.resident, firsts.c.first_block == pop.c.block_number)
            )
        ),
    )[0]
    participants, n, metres, grams = (int(v) for v in q)
    run.put("participation.participants", participants, "residents", "participation")
    run.put(
        "participation.first_time_participants",
        int(first_time),
        "residents",
        "first_time_participants",
        "residents whose first accepted session ever was recorded in the period",
    )
    run.put("participation.sessions", n, "sessions", "participation")
    run.put("participation.kilometres", metres / 1000, "km", "participation")
    kg = grams / 1000
    run.put("waste.kilograms_collected", kg, "kg", "participation")
    run.put(
        "waste.gri_306_3_generated_kg",
        kg,
        "kg",
        "participation",
        "GRI 306-3 / K-ESG E-6-1: litter collected is counted as waste generated (assumption)",
    )
    run.put(
        "waste.gri_306_4_diverted_kg",
        None,
        "kg",
        "participation",
        "GRI 306-4 / K-ESG E-6-2: the chain records no recycling share, so no diversion is claimed",
    )


def _feedback(run: _Run, clock: BlockClock, submissions: Select[Any], p: BlockPeriod) -> None:
    pop = submissions.subquery("submissions")
    c = pop.c
    as_of = clock.timestamp(p.last) if not p.empty else 0
    counts = run.one(
        "feedback_funnel",
        select(
            func.count(),
            func.count(c.supported_block),
            func.count(c.required_block),
            func.count(c.answer_block),
            func.count(c.closed_block),
            func.count().filter(and_(c.due_at.is_not(None), c.due_at < as_of, c.answer_block.is_(None))),
        ).select_from(pop),
    )
    received, supported, required, answered, closed, overdue = (int(v) for v in counts)
    times_query = select(c.block_number, c.answer_block).where(c.answer_block.is_not(None))
    run.sql("feedback_answer_times", times_query)
    pairs = run.conn.execute(times_query).all()
    stamps = clock.timestamps([b for pair in pairs for b in pair])
    waits = [stamps[a] - stamps[s] for s, a in pairs]
    run.put("feedback.received", received, "items", "feedback_funnel")
    run.put("feedback.supported", supported, "items", "feedback_funnel", "at least one support")
    run.put("feedback.past_threshold", required, "items", "feedback_funnel", "supports reached the threshold")
    run.put("feedback.answered", answered, "items", "feedback_funnel")
    run.put("feedback.closed", closed, "items", "feedback_funnel")
    run.put("feedback.answered_share", answered / received if received else None, "ratio", "feedback_funnel")
    run.put(
        "feedback.median_hours_to_answer",
        statistics.median(waits) / 3600 if waits else None,
        "hours",
        "feedback_answer_times",
        "from the submission's block time to the answer's (block timestamps from the node)",
    )
    run.put(
        "feedback.overdue",
        overdue,
        "items",
        "feedback_funnel",
        "an obliged answer due before the period's last block, and no answer by then",
    )


def _sum(run: _Run, name: str, population: Select[Any], column: str) -> int:
    pop = population.subquery(name)
    return int(run.one(name, select(func.coalesce(func.sum(pop.c[column]), 0)).select_from(pop))[0])


def _tokens(run: _Run, chain_id: int, pops: dict[str, Select[Any]], p: BlockPeriod) -> None:
    issued = _sum(run, "token_mints", pops["token_mints"], "value")
    burned = _sum(run, "token_burns", pops["token_burns"], "value")
    minted_ever = _sum(run, "token_mints_to_date", _transfers(chain_id, p, "mint", cumulative=True), "value")
    burned_ever = _sum(run, "token_burns_to_date", _transfers(chain_id, p, "burn", cumulative=True), "value")
    run.put("tokens.issued", issued, "points", "token_mints", "every mint: plogging, feedback, bonuses")
    run.put(
        "tokens.redeemed", _sum(run, "redemptions", pops["redemptions"], "amount"), "points", "redemptions"
    )
    run.put("tokens.donated", _sum(run, "donations", pops["donations"], "amount"), "points", "donations")
    run.put("tokens.burned", burned, "points", "token_burns", "redemptions that burn, and claw-backs")
    run.put(
        "tokens.outstanding",
        minted_ever - burned_ever,
        "points",
        "token_mints_to_date",
        "all points minted minus burned up to the period's last block (token_burns_to_date)",
    )


def metrics(
    conn: Connection,
    clock: BlockClock,
    *,
    chain_id: int,
    period: BlockPeriod,
    area: int | None = None,
    campaign: int | None = None,
    group: dict[str, Any] | None = None,
) -> MetricSet:
    """Every figure for the period (in one area, or one campaign's area and window)."""
    result = MetricSet(chain_id, period.first, period.last, group or {})
    run = _Run(conn, result)
    pops = populations(chain_id, period, area=area, campaign=campaign)
    _participation(run, chain_id, pops["plogging_accepted_sessions"])
    if "feedback_submissions" in pops:
        _feedback(run, clock, pops["feedback_submissions"], period)
    if "token_mints" in pops:
        _tokens(run, chain_id, pops, period)
    return result


def _months(clock: BlockClock, p: BlockPeriod) -> Iterator[tuple[str, int, int]]:
    if p.empty:
        return
    start = datetime.fromtimestamp(p.since if p.since is not None else clock.timestamp(p.first), KST)
    end = p.until if p.until is not None else clock.timestamp(p.last) + 1
    month = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while int(month.timestamp()) < end:
        following = (month + timedelta(days=32)).replace(day=1)
        yield month.strftime("%Y-%m"), int(month.timestamp()), int(following.timestamp())
        month = following


def metrics_by(
    conn: Connection, clock: BlockClock, *, chain_id: int, period: BlockPeriod, by: str | None
) -> list[MetricSet]:
    """The figures for the whole period (`by` None), or one set per area, campaign or month."""
    if by is None:
        return [metrics(conn, clock, chain_id=chain_id, period=period)]
    if by == "month":
        out = []
        for label, since, until in _months(clock, period):
            sub = clock.period(since, until, start_block=period.first, last_block=period.last)
            if not sub.empty:
                out.append(metrics(conn, clock, chain_id=chain_id, period=sub, group={"month": label}))
        return out
    if by == "area":
        s, f = _S.c, _SUB.c
        areas = conn.execute(
            select(s.area_code).where(s.chain_id == chain_id, _in(s, period))
            .union(select(f.area_code).where(f.chain_id == chain_id, _in(f, period)))
        ).scalars()  # fmt: skip
        return [
            metrics(conn, clock, chain_id=chain_id, period=period, area=int(a), group={"area": int(a)})
            for a in sorted(areas)
        ]
    if by == "campaign":
        c = CAMPAIGN.c
        ids = conn.execute(select(c.campaign_id).where(c.chain_id == chain_id).order_by(c.campaign_id))
        return [
            metrics(
                conn, clock, chain_id=chain_id, period=period, campaign=int(i), group={"campaign": int(i)}
            )
            for i in ids.scalars()
        ]
    raise AuditQueryError(f"group by one of {', '.join(GROUPINGS)}", field="by")
