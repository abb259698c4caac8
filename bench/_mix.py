"""The realistic mix of `esg-ledger bench pipeline --mix`: 70% plogging, 15% feedback, 10% support,
2.5% redemption and 2.5% donation, and the set-up that makes every one of them recordable.

Set-up (not timed): the deployer registers a partner and a cause; every resident records one plogging
session (points to redeem and donate, and a resident slot, so the timed sessions are not first-time);
a few authors post feedback items for residents to support. Feedback needs its text stored off-chain
under the hash the resident signs, which only `POST /v1/actions/prepare` does: each timed feedback
action is prepared over HTTP in the set-up and signed offline like the rest. The other kinds are
signed offline from `ledger.kinds`, with nonces that continue after the prepared ones.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from ledger.chain.calls import calldata, view
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment

from ._http import Connection
from ._signing import Resident, Signed, fresh_residents, session_fields, sign, sign_message

# out of 40 actions, spread evenly (smooth weighted round robin)
SHARES = {"plogging": 28, "feedback": 6, "support": 4, "redemption": 1, "donation": 1}
KINDS = tuple(SHARES)
CAUSE_ID = 1
REDEEM, DONATE = 10, 5  # points, fewer than one set-up session earns
ITEMS_PER_AUTHOR = 3  # FeedbackBox's daily cap on a resident's submissions
# per resident and day: the registry's 10 sessions (one is the set-up's), the box's 3 submissions
CAPS = {"plogging": 9, "feedback": 3, "support": 20}


def _spread(weights: dict[str, int]) -> tuple[str, ...]:
    total, current, out = sum(weights.values()), dict.fromkeys(weights, 0), []
    for _ in range(total):
        for k, w in weights.items():
            current[k] += w
        best = max(current, key=lambda k: current[k])
        current[best] -= total
        out.append(best)
    return tuple(out)


PATTERN = _spread(SHARES)


def plan(residents: int, per_resident: int) -> list[list[str]]:
    """Each resident's kinds, action by action: consecutive runs of PATTERN, so every 40 actions of
    a phase have exactly the mix; ValueError when a resident would pass a daily cap."""
    kinds = [
        [PATTERN[(r * per_resident + n) % len(PATTERN)] for n in range(per_resident)]
        for r in range(residents)
    ]
    for own in kinds:
        for kind, n in Counter(own).items():
            if n > CAPS.get(kind, n):
                raise ValueError(f"{n} {kind} actions per resident pass the daily cap of {CAPS[kind]}")
    return kinds


class MixLoad:
    def __init__(
        self,
        deployment: Deployment,
        rpc_url: str,
        admin: LocalAccount,
        *,
        residents: int,
        per_resident: int,
        phases: int,
        log: Callable[[str], Any],
    ) -> None:
        self.deployment = deployment
        self.rpc = HttpRpc(rpc_url)
        self.admin = admin
        self.log = log
        self.per_resident = per_resident
        self.plan = plan(residents, per_resident)
        self.phases = [fresh_residents(seed, residents) for seed in range(1, phases + 1)]
        self.authors = fresh_residents("author", max(1, min(20, residents // 100)))
        self.partner = Resident.of("esg-bench-partner").address
        self.cause_wallet = Resident.of("esg-bench-cause").address
        self.now = int(time.time())
        self.deadline = self.now + 86_400
        self.prepared: dict[tuple[int, int, int], Signed] = {}  # (phase, resident, action) → feedback

    def close(self) -> None:
        self.rpc.close()

    def register(self) -> None:
        """The deployer (PARTNER_MANAGER_ROLE) registers the partner and the cause."""
        rewards = self.deployment.address("CommunityRewards")
        nonce = int(self.rpc.call("eth_getTransactionCount", [self.admin.address, "pending"]), 16)
        calls = [
            (
                "setPartner(address,bool,uint64,bytes32)",
                [self.partner, False, self.deadline, keccak(b"shop")],
            ),
            ("setCause(uint32,address,bool,bytes32)", [CAUSE_ID, self.cause_wallet, True, keccak(b"cause")]),
        ]
        hashes = []
        for i, (signature, args) in enumerate(calls):
            tx = {
                "to": rewards,
                "data": calldata(signature, args),
                "gas": 300_000,
                "maxFeePerGas": 10**11,
                "maxPriorityFeePerGas": 10**9,
                "nonce": nonce + i,
                "chainId": self.deployment.chain_id,
                "type": 2,
            }
            raw = "0x" + bytes(Account.sign_transaction(tx, self.admin.key).raw_transaction).hex()
            hashes.append(self.rpc.call("eth_sendRawTransaction", [raw]))
        deadline = time.monotonic() + 60
        for tx_hash in hashes:
            while (receipt := self.rpc.call("eth_getTransactionReceipt", [tx_hash])) is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("registering the partner and the cause timed out")
                time.sleep(0.1)
            if receipt["status"] != "0x1":
                raise RuntimeError(f"registering the partner and the cause reverted: {tx_hash}")

    def setup_sessions(self) -> list[Signed]:
        """One plogging session per resident of every phase."""
        return [
            sign(self.deployment, "plogging", r, session_fields(r, self.now), deadline=self.deadline)
            for residents in self.phases
            for r in residents
        ]

    async def prepare_feedback(self, port: int, concurrency: int = 16) -> list[Signed]:
        """Prepares (stores the text of) every feedback action of the run over HTTP and signs it; returns
        the authors' items, to be posted in the set-up (the phases' are kept for their phase)."""
        jobs: list[tuple[Resident, tuple[int, int, int] | None]] = [
            (a, None) for a in self.authors for _ in range(ITEMS_PER_AUTHOR)
        ]
        for p, residents in enumerate(self.phases):
            for i, r in enumerate(residents):
                jobs += [(r, (p, i, n)) for n, k in enumerate(self.plan[i]) if k == "feedback"]
        items: list[Signed] = []
        queue = iter(enumerate(jobs))

        async def worker() -> None:
            conn = Connection("127.0.0.1", port)
            try:
                for j, (resident, where) in queue:
                    content = f"Bench opinion {j}: the riverside path needs more litter bins."
                    body = {
                        "kind": "feedback",
                        "resident": resident.address,
                        "payload": {"category": "environment", "content": content},
                    }
                    status, reply = await conn.request(
                        "POST", "/v1/actions/prepare", json.dumps(body).encode()
                    )
                    if status != 200:
                        raise RuntimeError(f"POST /v1/actions/prepare answered {status}: {reply}")
                    message = reply["typedData"]["message"]
                    signed = sign_message(self.deployment, "feedback", resident.key, message)
                    box = resident.nonces
                    box["FeedbackBox"] = max(box.get("FeedbackBox", 0), message["nonce"] + 1)
                    if where is None:
                        items.append(signed)
                    else:
                        self.prepared[where] = signed
            finally:
                conn.close()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return items

    def item_ids(self) -> list[int]:
        (count,) = view(self.rpc, self.deployment.address("FeedbackBox"), "itemCount()", [], ["uint256"])
        return list(range(1, int(count) + 1))

    def phase_sets(self, items: list[int]) -> list[list[Signed]]:
        """Each phase's actions, signed, interleaved by action number (every resident's first, then
        every resident's second, …). Supporters agree with the authors' items, each item once."""
        out = []
        for p, residents in enumerate(self.phases):
            supports: Counter[int] = Counter()
            actions = []
            for n in range(self.per_resident):
                for i, r in enumerate(residents):
                    kind = self.plan[i][n]
                    if kind == "feedback":
                        actions.append(self.prepared[p, i, n])
                        continue
                    if kind == "plogging":
                        fields: dict[str, Any] = session_fields(r, self.now)
                    elif kind == "support":
                        if supports[i] >= len(items):
                            raise ValueError(f"{len(items)} feedback items are too few to support")
                        fields = {"itemId": items[(i + supports[i]) % len(items)]}
                        supports[i] += 1
                    elif kind == "redemption":
                        offer = "0x" + keccak(f"offer-{r.address}-{n}".encode()).hex()
                        fields = {"partner": self.partner, "amount": REDEEM, "offerHash": offer}
                    else:
                        fields = {"causeId": CAUSE_ID, "amount": DONATE}
                    actions.append(sign(self.deployment, kind, r, fields, deadline=self.deadline))
            out.append(actions)
        return out
