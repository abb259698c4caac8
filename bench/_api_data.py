"""The database `esg-ledger bench api` reads: N residents' actions with the activity they imply, written
straight into the real schema (migrations) with the indexer's bulk insert, not through the chain.

What is written, for every action (`KIND_SHARES`), in chronological order, in blocks that really exist
on the benchmark's anvil (mined empty with `anvil_mine`, so every row's block hash is the node's):

- the outbox: the `action` row (confirmed with its log, or failed before the chain with a reason),
  its `action_event` history, the `relay_tx` that carried its batch, `resident_nonce`;
- the mirror's event rows the contracts would have emitted: `plogging_session` (+ the reward's mint,
  `plogging_batch`, and for a few a later `plogging_verification`), `feedback_submission` (+ its text;
  for some a review start, an official answer with its text and reward, a closure),
  `feedback_support` (+ `feedback_answer_required` at the threshold), `redemption`, `donation`,
  `bonus_claim`, each with its `token_transfer`; the partners, causes and campaigns they name;
- the state tables (balances, residents, feedback items, reviews, partners, …) folded from those rows
  by the indexer's own projections (`Projection.rebuild`), so they agree with the events by construction.

Not written: `raw_log` (the read routes never read it; a raw-log rebuild of this database would
therefore empty it, which is why the cache key includes the derived tables' code versions), and the
signed transaction bytes of `relay_tx.raw` (a placeholder). Signatures and digests are random bytes.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text

from indexer._sql import insert_rows
from indexer.models import EVENT_TABLES, FEEDBACK_ITEM
from indexer.projections import PROJECTIONS
from ledger.answers import OfficialAnswer
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.feedback import FeedbackContent
from ledger.models import Action, ActionEvent, RelayTx, ResidentNonce

# Shares of the actions by kind: plogging dominates (a neighbourhood group logs sessions daily);
# agreeing with an item is commoner than posting one; points are spent now and then.
KIND_SHARES = {
    "plogging": 0.70,
    "support": 0.14,
    "feedback": 0.07,
    "redemption": 0.04,
    "donation": 0.03,
    "claim": 0.02,
}
CONTRACT_OF = {
    "plogging": "PloggingRegistry",
    "feedback": "FeedbackBox",
    "support": "FeedbackBox",
    "redemption": "CommunityRewards",
    "donation": "CommunityRewards",
    "claim": "CommunityRewards",
}
EVENT_OF = {  # the event table that records each kind
    "plogging": "plogging_session",
    "feedback": "feedback_submission",
    "support": "feedback_support",
    "redemption": "redemption",
    "donation": "donation",
    "claim": "bonus_claim",
}
PARTNERS, CAUSES, CAMPAIGNS = 40, 8, 4
FAILED_SHARE = 0.003  # refused at pre-flight (a daily cap, a deadline): no mirror rows
ACTIONS_PER_BLOCK = 400  # four batches of 100 a block: the pace of a busy city, not of the chain's limit
BATCH = 100
_ZERO = "0x0000000000000000000000000000000000000000"
_AREAS = [41110 + i for i in range(25)]
_CATEGORY_IDS_FALLBACK = [1]
_TEXTS = [
    "공원 산책로에 쓰레기통을 더 놓아 주세요.",
    "하천변 플로깅 모임을 주말 아침에도 열어 주세요.",
    "The bus stop by the market needs a recycling bin.",
    "어르신들을 위한 큰 글씨 안내판이 필요합니다.",
    "Street lights on the riverside path are out after 10 pm.",
    "분리수거 요일을 아파트 게시판에 알려 주세요.",
]
_ANSWER = "검토 결과 다음 분기 예산에 반영하겠습니다. Thank you for the proposal."


def _hex(n: int) -> str:
    return "0x" + os.urandom(n).hex()


@dataclass
class Dataset:
    """What the load generator draws keys from, and what the JSON reports about the data."""

    residents: list[str]
    action_ids: list[str]
    feedback_residents: list[str]
    categories: list[str]
    counts: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "residents": self.residents,
            "action_ids": self.action_ids,
            "feedback_residents": self.feedback_residents,
            "categories": self.categories,
            "counts": self.counts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dataset:
        return cls(
            data["residents"],
            data["action_ids"],
            data["feedback_residents"],
            data["categories"],
            data.get("counts", {}),
        )


class _Builder:
    """Walks the actions in chronological order and collects every row they imply."""

    def __init__(
        self,
        *,
        deployment: Deployment,
        blocks: dict[int, str],
        first_block: int,
        first_item: int,
        threshold: int,
        categories: list[int],
        relayer: str,
        staff: str,
        seed: int,
    ) -> None:
        self.chain_id = deployment.chain_id
        self.address = {n: c.address for n, c in deployment.contracts.items()}
        self.token = self.address["ParticipationToken"]
        self.blocks = blocks
        self.block = first_block
        self.log_index = 0
        self.tx_hash = ""
        self.tx_id = 0
        self.relayer, self.staff = relayer, staff
        self.rng = random.Random(seed)
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.next_item = first_item
        self.threshold = threshold
        self.categories = categories or _CATEGORY_IDS_FALLBACK
        self.balance: dict[str, int] = defaultdict(int)
        self.nonce: dict[tuple[str, str], int] = defaultdict(int)
        self.items: list[tuple[int, str]] = []  # (item id, author)
        self.supports: dict[int, int] = defaultdict(int)
        self.supported: set[tuple[int, str]] = set()
        self.claimed: set[tuple[int, str]] = set()
        self.pending: dict[int, list[Callable[[], object]]] = defaultdict(list)  # staff work by block
        self.partners = [(_hex(20), i % 4 == 0) for i in range(PARTNERS)]
        self.causes = [(i + 1, _hex(20)) for i in range(CAUSES)]
        self.now = time.time()
        self.plogging_batches = 0

    # --- positions

    def _position(self) -> dict[str, Any]:
        row = {
            "chain_id": self.chain_id,
            "block_number": self.block,
            "log_index": self.log_index,
            "block_hash": self.blocks[self.block],
            "tx_hash": self.tx_hash,
        }
        self.log_index += 1
        return row

    def _event(self, table: str, **values: Any) -> dict[str, Any]:
        row = self._position() | values
        self.rows[table].append(row)
        return row

    def _new_tx(self, kind: str, count: int, *, relayed: bool = True) -> None:
        self.tx_hash = _hex(32)
        if not relayed:  # the deployer's or a staff member's own transaction: no relay_tx row
            return
        self.tx_id += 1
        self.rows["relay_tx"].append(
            {
                "id": self.tx_id,
                "sender": self.relayer,
                "nonce": self.tx_id - 1,
                "kind": kind,
                "tx_hash": self.tx_hash,
                "raw": "0x02",  # the signed bytes are not kept here (tens of kB a batch; never read)
                "status": "mined",
                "max_fee": 10**11,
                "priority_fee": 10**9,
                "gas_limit": 4_000_000,
                "action_count": count,
                "block_number": self.block,
                "block_hash": self.blocks[self.block],
                "broadcasts": 0,
                "valid_until": None,
                "sent_at": self.now,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )

    def _mint(self, to: str, value: int) -> None:
        self._event("token_transfer", token=self.token, from_address=_ZERO, to_address=to, value=value)
        self.balance[to] += value

    def _move(self, holder: str, to: str, value: int) -> None:
        self._event("token_transfer", token=self.token, from_address=holder, to_address=to, value=value)
        self.balance[holder] -= value

    # --- set-up: what the actions refer to (the deployer's registrations)

    def setup(self) -> None:
        self._new_tx("setup", 0, relayed=False)
        for partner, burn in self.partners:
            self._event(
                "partner_set",
                partner=partner,
                by_address=self.staff,
                burn_on_redeem=burn,
                expires_at=2**40,
                metadata_hash=_hex(32),
            )
        for cause_id, wallet in self.causes:
            self._event(
                "cause_set",
                cause_id=cause_id,
                by_address=self.staff,
                wallet=wallet,
                active=True,
                metadata_hash=_hex(32),
            )
        now = int(self.now)
        self.campaigns = list(range(1_000_001, 1_000_001 + CAMPAIGNS))  # clear of any real campaign id
        for cid in self.campaigns:
            self._event(
                "campaign_creation",
                campaign_id=cid,
                by_address=self.staff,
                starts_at=now - 90 * 86_400,
                ends_at=now - 30 * 86_400,
                metric=0,
                area_code=_AREAS[cid % len(_AREAS)],
                status=1,
                goal=1_000_000,
                progress=0,
                metadata_hash=_hex(32),
                bonus_root="0x" + "00" * 32,
                bonus_total=0,
                bonus_claimed=0,
            )
            self._event(
                "campaign_finalization", campaign_id=cid, by_address=self.staff, status=2, progress=1_000_000
            )
            self._event(
                "campaign_bonus_set", campaign_id=cid, by_address=self.staff, root=_hex(32), total=10**12
            )

    # --- the actions

    def action(self, index: int, kind: str, resident: str) -> tuple[str, str] | None:
        """Records one action; returns (id, kind actually recorded), or None if it had to be skipped."""
        rng = self.rng
        contract = CONTRACT_OF[kind]
        if kind == "support":
            item = self._pick_item(resident)
            if item is None:
                kind, contract = "plogging", "PloggingRegistry"
        elif kind in ("redemption", "donation") and self.balance[resident] < 100:
            kind, contract = "plogging", "PloggingRegistry"
        elif kind == "claim":
            open_ = [c for c in self.campaigns if (c, resident) not in self.claimed]
            if not open_:
                kind, contract = "plogging", "PloggingRegistry"
        digest = _hex(32)
        nonce = self.nonce[(resident, contract)]
        self.nonce[(resident, contract)] = nonce + 1
        message: dict[str, Any] = {"resident": resident, "nonce": nonce, "deadline": int(self.now) + 86_400}
        failed = rng.random() < FAILED_SHARE
        event_index: int | None = None
        if not failed:
            event_index = self.log_index
            if kind == "plogging":
                message |= self._plogging(digest, resident, nonce)
            elif kind == "feedback":
                message |= self._feedback(digest, resident, nonce)
            elif kind == "support":
                assert item is not None
                message |= self._support(digest, resident, nonce, item)
            elif kind == "redemption":
                message |= self._redemption(digest, resident, nonce)
            elif kind == "donation":
                message |= self._donation(digest, resident, nonce)
            else:
                message |= self._claim(digest, resident, open_)
        self._outbox(index, digest, kind, contract, resident, nonce, message, event_index)
        return digest, kind

    def _pick_item(self, resident: str) -> tuple[int, str] | None:
        for _ in range(4):
            if not self.items:
                return None
            # recent items draw most supports: the newest tenth gets about half of them
            pos = int(len(self.items) * (1 - self.rng.random() ** 4))
            item = self.items[min(pos, len(self.items) - 1)]
            if item[1] != resident and (item[0], resident) not in self.supported:
                return item
        return None

    def _plogging(self, digest: str, resident: str, nonce: int) -> dict[str, Any]:
        rng = self.rng
        distance = rng.randint(800, 9000)
        duration = distance * rng.randint(8, 20) // 10  # 0.5 to 1.25 m/s
        grams = rng.randint(50, 3000)
        reward = grams // 100 * 10 + distance // 1000 * 5
        fields = {
            "distanceMeters": distance,
            "durationSeconds": duration,
            "trashGrams": grams,
            "areaCode": rng.choice(_AREAS),
            "startedAt": int(self.now) - rng.randint(3_600, 365 * 86_400),
            "evidenceHash": _hex(32),
        }
        roll = rng.random()
        status = 2 if roll < 0.92 else 1  # auto-accepted under the thresholds, else pending review
        self._event(
            "plogging_session",
            digest=digest,
            resident=resident,
            nonce=nonce,
            distance_meters=distance,
            duration_seconds=duration,
            trash_grams=grams,
            area_code=fields["areaCode"],
            started_at=fields["startedAt"],
            evidence_hash=fields["evidenceHash"],
            reward=reward,
            status=status,
        )
        if status == 2:
            self._mint(resident, reward)
        elif roll < 0.97:  # most pending sessions are verified a few blocks later
            self.pending[self.block + rng.randint(2, 30)].append(
                lambda: self._verify(digest, resident, reward)
            )
        return fields

    def _verify(self, digest: str, resident: str, reward: int) -> None:
        self._event(
            "plogging_verification",
            digest=digest,
            resident=resident,
            verifier=self.staff,
            reward=reward,
            minted=reward,
        )
        self._mint(resident, reward)

    def _feedback(self, digest: str, resident: str, nonce: int) -> dict[str, Any]:
        rng = self.rng
        item_id = self.next_item
        self.next_item += 1
        content = f"{rng.choice(_TEXTS)} ({item_id})"
        salt = _hex(32)
        chash = _hex(32)
        category = rng.choice(self.categories)
        area = rng.choice(_AREAS)
        self._event(
            "feedback_submission",
            item_id=item_id,
            digest=digest,
            resident=resident,
            category=category,
            area_code=area,
            content_hash=chash,
            nonce=nonce,
        )
        self.rows["feedback_content"].append(
            {
                "content_hash": chash,
                "resident": resident,
                "category": str(category),
                "content": content,
                "salt": salt,
                "created_at": self.now,
                "erased_at": None,
                "erase_reason": None,
            }
        )
        self.items.append((item_id, resident))
        roll = rng.random()
        if roll < 0.35:  # the ESG team takes it up: review, then (mostly) an answer, then a closure
            later = self.block + rng.randint(3, 60)
            self.pending[later].append(
                lambda: self._event("feedback_review_start", item_id=item_id, reviewer=self.staff)
            )
            if roll < 0.28:
                self.pending[later + 5].append(lambda: self._answer(item_id, resident, accepted=roll < 0.2))
            if roll < 0.08:
                self.pending[later + 20].append(
                    lambda: self._event("feedback_closure", item_id=item_id, reviewer=self.staff)
                )
        return {"categoryId": category, "areaCode": area, "contentHash": chash}

    def _answer(self, item_id: int, author: str, *, accepted: bool) -> None:
        answer_hash = _hex(32)
        reward = 50 if accepted else 0
        self._event(
            "feedback_answer",
            item_id=item_id,
            reviewer=self.staff,
            accepted=accepted,
            answer_hash=answer_hash,
            reward=reward,
        )
        self.rows["feedback_answer_text"].append(
            {
                "answer_hash": answer_hash,
                "text": _ANSWER,
                "language": "ko",
                "chain_id": self.chain_id,
                "item_id": item_id,
                "accepted": accepted,
                "template_id": None,
                "author": self.staff,
                "created_at": self.now,
            }
        )
        if reward:
            self._mint(author, reward)

    def _support(self, digest: str, resident: str, nonce: int, item: tuple[int, str]) -> dict[str, Any]:
        item_id = item[0]
        self.supported.add((item_id, resident))
        self.supports[item_id] += 1
        count = self.supports[item_id]
        self._event(
            "feedback_support",
            item_id=item_id,
            digest=digest,
            resident=resident,
            support_count=count,
            nonce=nonce,
        )
        if count == self.threshold:
            self._event(
                "feedback_answer_required",
                item_id=item_id,
                support_count=count,
                due_at=int(self.now) + 14 * 86_400,
            )
        return {"itemId": item_id}

    def _redemption(self, digest: str, resident: str, nonce: int) -> dict[str, Any]:
        partner, burn = self.rng.choice(self.partners)
        amount = min(self.balance[resident], self.rng.choice([100, 200, 300, 500, 1000]))
        offer = _hex(32)
        self._event(
            "redemption",
            digest=digest,
            resident=resident,
            partner=partner,
            amount=amount,
            offer_hash=offer,
            burned=burn,
            nonce=nonce,
        )
        self._move(resident, _ZERO if burn else partner, amount)
        return {"partner": partner, "amount": amount, "offerHash": offer}

    def _donation(self, digest: str, resident: str, nonce: int) -> dict[str, Any]:
        cause_id, wallet = self.rng.choice(self.causes)
        amount = min(self.balance[resident], self.rng.choice([100, 100, 200, 500]))
        self._event(
            "donation",
            digest=digest,
            resident=resident,
            cause_id=cause_id,
            wallet=wallet,
            amount=amount,
            nonce=nonce,
        )
        self._move(resident, wallet, amount)
        return {"causeId": cause_id, "amount": amount}

    def _claim(self, digest: str, resident: str, open_: list[int]) -> dict[str, Any]:
        campaign = self.rng.choice(open_)
        self.claimed.add((campaign, resident))
        amount = 300 + campaign % 4 * 100
        self._event("bonus_claim", campaign_id=campaign, digest=digest, resident=resident, amount=amount)
        self._mint(resident, amount)
        return {"campaignId": campaign, "amount": amount}

    def _outbox(
        self,
        index: int,
        digest: str,
        kind: str,
        contract: str,
        resident: str,
        nonce: int,
        message: dict[str, Any],
        event_index: int | None,
    ) -> None:
        created = self.now - 180 * 86_400 + index * 15.0  # one action every 15 s over half a year
        confirmed = event_index is not None
        self.rows["action"].append(
            {
                "id": digest,
                "kind": kind,
                "contract": self.address[contract],
                "resident": resident,
                "nonce": nonce,
                "deadline": message["deadline"],
                "message": json.dumps(message, sort_keys=True),
                "signature": _hex(65),
                "status": "confirmed" if confirmed else "failed",
                "tx_id": self.tx_id if confirmed else None,
                "tx_hash": self.tx_hash if confirmed else None,
                "block_number": self.block if confirmed else None,
                "log_index": event_index,
                "error": None if confirmed else "PloggingRegistryDailyCapExceeded(resident, cap=10)",
                "attempts": 1 if confirmed else 0,
                "created_at": created,
                "updated_at": created + 2.5,
            }
        )
        events = self.rows["action_event"]
        events.append(_event_row(digest, None, "queued", None, created))
        if confirmed:
            events.append(_event_row(digest, "queued", "submitted", self.tx_id, created + 0.4))
            events.append(_event_row(digest, "submitted", "confirmed", self.tx_id, created + 2.5))
        else:
            events.append(
                _event_row(digest, "queued", "failed", None, created + 0.3, "pre-flight: daily cap")
            )

    def open_block(self, block: int) -> None:
        self.block, self.log_index = block, 0
        due = self.pending.pop(block, [])
        if due:
            self._new_tx("staff", 0, relayed=False)
            for work in due:
                work()

    def flush_pending(self, last_block: int) -> None:
        """Staff work scheduled past the last block happens in it."""
        self.block, self.log_index = last_block, 0
        self._new_tx("staff", 0, relayed=False)
        for block in sorted(self.pending):
            for work in self.pending.pop(block):
                work()

    def batch_tx(self, kind: str, count: int) -> None:
        self._new_tx(kind, count)
        if kind == "plogging":
            self.plogging_batches += 1


def _event_row(
    action_id: str,
    from_status: str | None,
    to_status: str,
    tx_id: int | None,
    at: float,
    reason: str | None = None,
) -> dict[str, Any]:
    return {
        "id": None,
        "action_id": action_id,
        "from_status": from_status,
        "to_status": to_status,
        "tx_id": tx_id,
        "reason": reason,
        "at": at,
    }


def _residents(count: int, rng: random.Random) -> list[str]:
    from eth_utils.address import to_checksum_address

    return [to_checksum_address(rng.randbytes(20)) for _ in range(count)]


def blocks_needed(actions: int) -> int:
    return -(-actions // ACTIONS_PER_BLOCK) + 2  # + the set-up block and the staff work's last block


def mine_blocks(rpc: HttpRpc, count: int) -> dict[int, str]:
    """Mines `count` empty blocks on anvil; returns every new block's number → hash."""
    start = int(rpc.call("eth_blockNumber"), 16) + 1
    rpc.call("anvil_mine", [hex(count)])
    out: dict[int, str] = {}
    numbers = list(range(start, start + count))
    for i in range(0, len(numbers), 500):
        chunk = numbers[i : i + 500]
        for n, block in zip(
            chunk, rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk]), strict=True
        ):
            if isinstance(block, Exception) or block is None:
                raise RuntimeError(f"anvil has no block {n} after anvil_mine")
            out[n] = str(block["hash"])
    return out


def _table(name: str) -> Table:
    if name in EVENT_TABLES:
        return EVENT_TABLES[name]
    models: dict[str, Any] = {
        "action": Action,
        "action_event": ActionEvent,
        "relay_tx": RelayTx,
        "resident_nonce": ResidentNonce,
        "feedback_content": FeedbackContent,
        "feedback_answer_text": OfficialAnswer,
    }
    table: Table = models[name].__table__
    return table


def build(
    engine: Engine,
    *,
    deployment: Deployment,
    rpc: HttpRpc,
    relayer: str,
    staff: str,
    actions: int,
    residents: int,
    seed: int = 11,
    log: Callable[[str], None] = print,
) -> Dataset:
    """Writes `actions` actions of `residents` residents (on top of what the indexer mirrored of the
    deployment), folds the state tables, and returns the keys the readers draw from."""
    rng = random.Random(seed)
    people = _residents(residents, rng)
    # How active each resident is: heavy-tailed (Pareto, alpha 1.2): most act a few times, a few a lot.
    weights = [min(rng.paretovariate(1.2), 200.0) for _ in people]
    cum: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    kinds = list(KIND_SHARES)
    kind_seq = rng.choices(kinds, weights=[KIND_SHARES[k] for k in kinds], k=actions)
    who_seq = rng.choices(people, cum_weights=cum, k=actions)

    t0 = time.monotonic()
    blocks = mine_blocks(rpc, blocks_needed(actions))
    first = min(blocks)
    log(f"mined {len(blocks)} empty blocks for the data in {time.monotonic() - t0:.1f}s")
    with engine.connect() as conn:
        threshold = int(
            conn.execute(
                text(
                    "SELECT support_threshold FROM feedback_settings_update WHERE chain_id = :c "
                    "ORDER BY block_number DESC, log_index DESC LIMIT 1"
                ),
                {"c": deployment.chain_id},
            ).scalar()
            or 50
        )
        categories = [
            int(c)
            for c in conn.execute(
                text("SELECT category FROM feedback_category WHERE chain_id = :c AND enabled"),
                {"c": deployment.chain_id},
            ).scalars()
        ]
        first_item = (
            int(conn.execute(select(func.coalesce(func.max(FEEDBACK_ITEM.c.item_id), 0))).scalar_one()) + 1
        )
    b = _Builder(
        deployment=deployment,
        blocks=blocks,
        first_block=first,
        first_item=first_item,
        threshold=threshold,
        categories=categories,
        relayer=relayer,
        staff=staff,
        seed=seed + 1,
    )
    b.open_block(first)
    b.setup()
    ids: list[str] = []
    recorded: dict[str, int] = defaultdict(int)
    counts: dict[str, float] = defaultdict(int)
    block = first
    t1 = time.monotonic()

    def flush(conn: Connection) -> None:
        """Writes the rows collected so far (a million actions' rows would not fit in memory at once)."""
        for name, rows in b.rows.items():
            _insert(conn, name, rows)
            counts[name] += len(rows)
            rows.clear()

    with engine.begin() as conn:
        for start in range(0, actions, ACTIONS_PER_BLOCK):
            block += 1
            b.open_block(block)
            chunk = range(start, min(actions, start + ACTIONS_PER_BLOCK))
            # one transaction per kind in the block (a relayer's lane batches one kind), ≤ 100 actions each
            by_kind: dict[str, list[int]] = defaultdict(list)
            for i in chunk:
                by_kind[kind_seq[i]].append(i)
            for kind, indexes in by_kind.items():
                for j in range(0, len(indexes), BATCH):
                    part = indexes[j : j + BATCH]
                    b.batch_tx(kind, len(part))
                    for i in part:
                        out = b.action(i, kind, who_seq[i])
                        if out is not None:
                            ids.append(out[0])
                            recorded[out[1]] += 1
                    if kind == "plogging":
                        b._event(
                            "plogging_batch", batch_id=b.plogging_batches, root=_hex(32), leaf_count=len(part)
                        )
            if (block - first) % 125 == 0:  # every 50,000 actions
                flush(conn)
        b.flush_pending(block + 1)
        b.rows["resident_nonce"] = [
            {"contract": b.address[c], "resident": r, "next_nonce": n} for (r, c), n in b.nonce.items()
        ]
        flush(conn)
        log(f"generated and inserted {sum(counts.values()):,.0f} rows in {time.monotonic() - t1:.1f}s")
        t2 = time.monotonic()
        present = set(inspect(conn).get_table_names())
        for projection in PROJECTIONS:
            if projection.table.name in present:  # a projection whose migration is not in yet: skip
                projection.rebuild(conn, deployment.chain_id)
        log(f"state tables folded in {time.monotonic() - t2:.1f}s")
    counts |= {f"actions_{k}": n for k, n in sorted(recorded.items())}
    names = _category_names(engine, deployment.chain_id)
    authors = sorted({a for _, a in b.items})
    return Dataset(
        residents=people, action_ids=ids, feedback_residents=authors, categories=names, counts=counts
    )


def _insert(conn: Connection, name: str, rows: list[dict[str, Any]]) -> None:
    table = _table(name)
    if name == "action_event":  # an autoincrement key: let the database number the rows
        columns = [c.name for c in table.columns if c.name != "id"]
        sql = f"INSERT INTO action_event ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        if conn.dialect.name != "sqlite":
            sql = sql.replace("?", "%s")
        for i in range(0, len(rows), 50_000):
            conn.exec_driver_sql(sql, [tuple(r[c] for c in columns) for r in rows[i : i + 50_000]])
        return
    for i in range(0, len(rows), 50_000):
        insert_rows(conn, table, rows[i : i + 50_000])


def _category_names(engine: Engine, chain_id: int) -> list[str]:
    with engine.connect() as conn:
        return [
            str(n)
            for n in conn.execute(
                text("SELECT name FROM feedback_category WHERE chain_id = :c AND enabled"), {"c": chain_id}
            ).scalars()
        ]
