"""Campaign bonus rules: who contributed how much to a campaign, and how its pool is split among them.

A rule is named in text that goes into the published tree (`campaign_bonus_tree.rule`), so anyone can
apply it again: `esg-ledger/bonus-rule/1 pro-rata:trash_grams pool=1000 campaign=3 snapshot-block=812`.

- **What counts** (version 1). The campaign's terms are its `CampaignCreated` event: window
  `[startsAt, endsAt)`, area (0: the whole city), metric. The snapshot is the campaign's
  `CampaignFinalized` log (status Achieved): every event up to that log's position, none after it.
  Plogging metrics (`trash_grams`, `distance_meters`, `sessions`) count the sessions recorded by then
  in the area whose signed `startedAt` is in the window and whose status then was accepted (recorded
  accepted, or pending and verified; a rejection or revocation by then takes it out, one after does
  not). `accepted_feedback` counts each resident's items in the area answered with `accepted` after
  the campaign's creation and by the snapshot.
- **How the pool is split.** `pro-rata[:metric]`: each contributor gets floor(pool * theirs / all), and
  the points left over (fewer than the contributors) go one each by largest remainder, ties by
  address. `equal[:metric]`: floor(pool / contributors) each, the rest one each to the largest
  contributions, ties by address. The metric defaults to the campaign's own. A contributor whose
  share rounds to 0 is left out (the contract refuses a claim of 0), so the tree's total is always
  exactly the pool.

The same fold runs over the mirror's event tables (`indexer/bonus_contributions.py`, for
`esg-ledger rewards distribute`) and over logs fetched from any node (`rebuild_from_chain`, for
`esg-ledger rewards rebuild`): the published root is checked from chain data alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .chain.decode import decode_logs
from .chain.events import EVENTS
from .deploy import Deployment
from .errors import BonusRuleError
from .merkle import StandardMerkleTree
from .types import checksum

__all__ = [
    "METHODS",
    "METRICS",
    "RULE_FORMAT",
    "BonusRule",
    "CampaignTerms",
    "Distribution",
    "Rebuilt",
    "allocate",
    "contributions",
    "distribute",
    "parse_rule",
    "rebuild_from_chain",
    "root_of",
]

RULE_FORMAT = "esg-ledger/bonus-rule/1"
METHODS = ("pro-rata", "equal")
METRICS = ("trash_grams", "distance_meters", "sessions", "accepted_feedback")  # CampaignMetric's order
ACHIEVED = 2  # CampaignStatus.Achieved
_SESSION_ACCEPTED = 2  # PloggingRecorded status: 1 pending, 2 accepted
LEAF_ENCODING = ("address", "uint256")
_RULE = re.compile(r"^(?P<method>[a-z-]+)(?::(?P<metric>[a-z_]+))?$")
Position = tuple[int, int]  # (block number, log index)


@dataclass(frozen=True)
class BonusRule:
    """A split method over a metric (None: the campaign's own metric)."""

    method: str
    metric: str | None = None

    def on(self, terms: CampaignTerms) -> BonusRule:
        return BonusRule(self.method, self.metric or terms.metric)

    def __str__(self) -> str:
        return f"{self.method}:{self.metric}" if self.metric else self.method


def parse_rule(text: str) -> tuple[BonusRule, int | None]:
    """`pro-rata`, `equal:sessions`, or a published rule's full text → (rule, its pool if stated)."""
    parts = text.strip().split()
    if parts and parts[0] == RULE_FORMAT:
        parts = parts[1:]
    elif parts and parts[0].startswith("esg-ledger/bonus-rule/"):
        raise BonusRuleError(f"unknown rule format {parts[0]!r}; this ledger applies {RULE_FORMAT}")
    if not parts:
        raise BonusRuleError(f"name a rule: {' or '.join(METHODS)}, optionally :metric")
    match = _RULE.fullmatch(parts[0])
    if match is None or match["method"] not in METHODS:
        raise BonusRuleError(f"unknown rule {parts[0]!r}; rules: {', '.join(METHODS)} (optionally :metric)")
    metric = match["metric"]
    if metric is not None and metric not in METRICS:
        raise BonusRuleError(f"unknown metric {metric!r}; metrics: {', '.join(METRICS)}")
    params = dict(p.partition("=")[::2] for p in parts[1:])
    pool = params.get("pool")
    if pool is not None and not pool.isdigit():
        raise BonusRuleError(f"pool={pool!r} is not a whole number of points")
    return BonusRule(match["method"], metric), None if pool is None else int(pool)


@dataclass(frozen=True)
class CampaignTerms:
    """What the chain says about a campaign, as far as its bonus is concerned."""

    campaign_id: int
    starts_at: int
    ends_at: int
    metric: str
    area_code: int
    created: Position
    finalized: Position | None  # the CampaignFinalized log; None while the campaign runs
    status: int  # as finalized (0 while it runs)

    @classmethod
    def from_rows(cls, created: Mapping[str, Any], finalized: Mapping[str, Any] | None) -> CampaignTerms:
        """From the campaign's `campaign_creation` row and its `campaign_finalization` row, if any."""
        return cls(
            campaign_id=int(created["campaign_id"]),
            starts_at=int(created["starts_at"]),
            ends_at=int(created["ends_at"]),
            metric=METRICS[int(created["metric"])],
            area_code=int(created["area_code"]),
            created=_position(created),
            finalized=None if finalized is None else _position(finalized),
            status=0 if finalized is None else int(finalized["status"]),
        )

    def snapshot(self) -> Position:
        if self.finalized is None or self.status != ACHIEVED:
            state = "is still running" if self.finalized is None else "was not achieved"
            raise BonusRuleError(
                f"campaign {self.campaign_id} {state}: a bonus is computed at its finalization as Achieved"
            )
        return self.finalized

    def in_area(self, area_code: int) -> bool:
        return self.area_code == 0 or int(area_code) == self.area_code


def _position(row: Mapping[str, Any]) -> Position:
    return int(row["block_number"]), int(row["log_index"])


def contributions(
    terms: CampaignTerms,
    metric: str,
    *,
    sessions: Iterable[Mapping[str, Any]] = (),
    reviews: Iterable[tuple[Mapping[str, Any], int]] = (),
    submissions: Iterable[Mapping[str, Any]] = (),
    answers: Iterable[Mapping[str, Any]] = (),
) -> dict[str, int]:
    """Each resident's contribution at the snapshot, from event rows (mirror column names, with
    `block_number` and `log_index`): `sessions` (PloggingRecorded), `reviews` ((row, the status it
    sets): PloggingVerified → 2, PloggingRejected → 3, PloggingRevoked → 4), `submissions`
    (FeedbackSubmitted), `answers` (FeedbackAnswered). Rows past the snapshot are ignored."""
    snap = terms.snapshot()
    out: dict[str, int] = {}
    if metric == "accepted_feedback":
        authors = {int(s["item_id"]): s for s in submissions if _position(s) <= snap}
        counted: set[int] = set()
        for a in sorted(answers, key=_position):
            item = authors.get(int(a["item_id"]))
            if not (terms.created < _position(a) <= snap) or item is None or not a["accepted"]:
                continue
            if int(a["item_id"]) in counted or not terms.in_area(int(item["area_code"])):
                continue
            counted.add(int(a["item_id"]))
            resident = checksum(str(item["resident"]))
            out[resident] = out.get(resident, 0) + 1
        return out
    status: dict[str, tuple[Position, int]] = {}
    for row, new_status in reviews:
        at = _position(row)
        digest = str(row["digest"]).lower()
        if at <= snap and (digest not in status or status[digest][0] < at):
            status[digest] = (at, new_status)
    for s in sessions:
        if _position(s) > snap or not terms.in_area(int(s["area_code"])):
            continue
        if not terms.starts_at <= int(s["started_at"]) < terms.ends_at:
            continue
        now = status.get(str(s["digest"]).lower(), ((0, 0), int(s["status"])))[1]
        if now != _SESSION_ACCEPTED:
            continue
        value = 1 if metric == "sessions" else int(s[metric])
        resident = checksum(str(s["resident"]))
        out[resident] = out.get(resident, 0) + value
    return {r: v for r, v in out.items() if v > 0}


def allocate(method: str, weights: Mapping[str, int], pool: int) -> dict[str, int]:
    """The pool split by `method` over positive `weights`; shares of 0 are left out."""
    people = sorted((r, w) for r, w in weights.items() if w > 0)
    if not people:
        raise BonusRuleError("nobody contributed to the campaign under this rule: there is nobody to pay")
    if pool <= 0:
        raise BonusRuleError(f"the pool must be a positive number of points, got {pool}")
    if method == "pro-rata":
        whole = sum(w for _, w in people)
        shares = {r: pool * w // whole for r, w in people}
        order = sorted(people, key=lambda p: (-(pool * p[1] % whole), p[0]))
    elif method == "equal":
        shares = {r: pool // len(people) for r, _ in people}
        order = sorted(people, key=lambda p: (-p[1], p[0]))
    else:
        raise BonusRuleError(f"unknown rule {method!r}; rules: {', '.join(METHODS)}")
    for r, _ in order[: pool - sum(shares.values())]:  # fewer points left than people
        shares[r] += 1
    return {r: v for r, v in shares.items() if v > 0}


def root_of(allocations: Mapping[str, int]) -> str:
    """The StandardMerkleTree root over `(resident, amount)` leaves, as ledger.bonus publishes it."""
    return StandardMerkleTree.of(sorted(allocations.items()), LEAF_ENCODING).root


@dataclass(frozen=True)
class Distribution:
    """A campaign's computed bonus: the rule as published, each contributor's weight and amount."""

    terms: CampaignTerms
    rule: BonusRule
    pool: int
    weights: dict[str, int]
    allocations: dict[str, int]

    @property
    def rule_text(self) -> str:
        block = self.terms.snapshot()[0]
        return (
            f"{RULE_FORMAT} {self.rule} pool={self.pool} campaign={self.terms.campaign_id} "
            f"snapshot-block={block}"
        )

    @property
    def root(self) -> str:
        return root_of(self.allocations)


def distribute(terms: CampaignTerms, rule: BonusRule, pool: int, weights: Mapping[str, int]) -> Distribution:
    rule = rule.on(terms)
    return Distribution(terms, rule, pool, dict(weights), allocate(rule.method, weights, pool))


# --- from the chain alone ------------------------------------------------------------------------

_TOPIC = {e.name: e.topic0 for e in EVENTS}
_REVIEW_STATUS = {"plogging_verification": 2, "plogging_rejection": 3, "plogging_revocation": 4}


@dataclass(frozen=True)
class Rebuilt:
    """A tree rebuilt from logs, beside the root and total the chain holds for the campaign."""

    distribution: Distribution
    chain_root: str | None
    chain_total: int | None
    bonus_set: Position | None = field(default=None)

    @property
    def matches(self) -> bool:
        return self.chain_root == self.distribution.root and self.chain_total == self.distribution.pool


def _rows(
    node: Any, deployment: Deployment, contract: str, events: list[str], to_block: int, *topics: str
) -> dict[str, list[dict[str, Any]]]:
    from .verify._node import get_logs  # the node's log ranges, split in halves when refused

    query: list[Any] = [[_TOPIC[e] for e in events], *topics]
    logs = get_logs(node, deployment.address(contract), query, deployment.start_block, to_block)
    return decode_logs(logs, deployment.chain_id)


def rebuild_from_chain(
    node: Any, deployment: Deployment, campaign_id: int, rule: str | None = None, pool: int | None = None
) -> Rebuilt:
    """Campaign `campaign_id`'s tree from a node's logs alone: its terms and snapshot, the sessions or
    answers that count, the split by `rule` (default `pro-rata` over the campaign's metric) of `pool`
    (default: the total the chain holds, from its latest `CampaignBonusSet`)."""
    from .verify._node import head, word

    events = ["CampaignCreated", "CampaignFinalized", "CampaignBonusSet"]
    mine = _rows(node, deployment, "CommunityRewards", events, head(node), word(campaign_id))
    if not mine["campaign_creation"]:
        raise BonusRuleError(f"the chain has no campaign {campaign_id}")
    finalized = mine["campaign_finalization"][-1] if mine["campaign_finalization"] else None
    terms = CampaignTerms.from_rows(mine["campaign_creation"][0], finalized)
    snap = terms.snapshot()
    bonus = max(mine["campaign_bonus_set"], key=_position, default=None)
    chain_root = None if bonus is None else str(bonus["root"]).lower()
    chain_total = None if bonus is None else int(bonus["total"])
    parsed, stated_pool = parse_rule(rule or "pro-rata")
    pool = pool if pool is not None else stated_pool if stated_pool is not None else chain_total
    if pool is None:
        raise BonusRuleError(f"campaign {campaign_id} has no bonus on chain yet: give the pool")
    metric = parsed.on(terms).metric
    assert metric is not None
    if metric == "accepted_feedback":
        fb = _rows(node, deployment, "FeedbackBox", ["FeedbackSubmitted", "FeedbackAnswered"], snap[0])
        weights = contributions(
            terms, metric, submissions=fb["feedback_submission"], answers=fb["feedback_answer"]
        )
    else:
        names = ["PloggingRecorded", "PloggingVerified", "PloggingRejected", "PloggingRevoked"]
        pl = _rows(node, deployment, "PloggingRegistry", names, snap[0])
        reviews = [(r, s) for table, s in _REVIEW_STATUS.items() for r in pl[table]]
        weights = contributions(terms, metric, sessions=pl["plogging_session"], reviews=reviews)
    return Rebuilt(
        distribute(terms, parsed, pool, weights),
        chain_root,
        chain_total,
        None if bonus is None else _position(bonus),
    )
