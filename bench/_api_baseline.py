"""The floor `esg-ledger bench api` compares the product against: the same three reads as a bare ASGI
callable, the same SQL statements as `indexer/queries.py` issues (one per product query) through the
same driver (the standard library's sqlite3, one connection per worker, one read transaction per
request), orjson answers, served by uvicorn with the same number of workers. No framework, no ORM,
no validation beyond what routing needs; unknown paths are 404. The smoke test checks its answers
equal the product's.

`python -m bench._api_baseline DB PORT WORKERS CHAIN_ID TOKEN` serves it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_DIGEST = re.compile(r"^0x[0-9a-fA-F]{64}$")
_FEEDBACK_STATUSES = {1: "submitted", 2: "under_review", 3: "answered", 4: "closed"}
_SESSION_STATUSES = {1: "pending", 2: "accepted", 3: "rejected", 4: "revoked"}
_JSON = [(b"content-type", b"application/json")]
# what the product's `indexer._feedback_reads.item_select()` joins into each feedback row (alias f)
_EXTRAS = (
    "(SELECT content_hash FROM feedback_content WHERE content_hash = f.content_hash) AS x_content_kept, "
    "(SELECT content FROM feedback_content WHERE content_hash = f.content_hash) AS x_content, "
    "(SELECT text FROM feedback_answer_text WHERE answer_hash = lower(f.answer_hash)) AS x_answer_text, "
    "(SELECT tx_hash FROM feedback_submission s WHERE s.chain_id = f.chain_id AND s.item_id = f.item_id "
    "LIMIT 1) AS x_submitted_tx"
)


def _checksum(address: str) -> str:
    from eth_utils.address import to_checksum_address

    return to_checksum_address(address)


class Reads:
    def __init__(self, db: str, chain_id: int, token: str) -> None:
        self.db = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA cache_size=-65536")
        self.chain, self.token = chain_id, token

    def q(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.db.execute(sql, args).fetchall()

    def one(self, sql: str, *args: Any) -> Any:
        row = self.db.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def action(self, action_id: str) -> dict[str, Any] | None:
        rows = self.q(
            "SELECT id, kind, status, tx_hash, block_number, log_index, error FROM action WHERE id = ?",
            action_id.lower(),
        )
        if not rows:
            return None
        r = rows[0]
        return {
            "id": r["id"],
            "kind": r["kind"],
            "status": r["status"],
            "txHash": r["tx_hash"],
            "blockNumber": r["block_number"],
            "logIndex": r["log_index"],
            "error": r["error"],
        }

    def feedback_public(self, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
        if not rows:
            return []
        c = self.chain
        # texts, answer texts and submission transactions come with the rows (`_EXTRAS`), as the
        # product's `item_select()` joins them in
        answers = {
            r["answer_hash"].lower(): r["x_answer_text"]
            for r in rows
            if r["answer_hash"] and r["x_answer_text"]
        }
        names = {
            int(k): str(n)
            for k, n in self.q("SELECT category, name FROM feedback_category WHERE chain_id = ?", c)
        }
        threshold = int(
            self.one(
                "SELECT support_threshold FROM feedback_settings_update WHERE chain_id = ? "
                "ORDER BY block_number DESC, log_index DESC LIMIT 1",
                c,
            )
            or 0
        )
        contents = {r["content_hash"]: r["x_content"] for r in rows if r["x_content_kept"] is not None}
        submitted = {r["item_id"]: r["x_submitted_tx"] for r in rows if r["x_submitted_tx"] is not None}
        out = []
        for r in rows:
            stored = r["content_hash"] in contents
            text = contents.get(r["content_hash"])
            if not stored:
                content, state = None, "missing"
            elif text is None:
                content, state = None, "erased"
            elif r["hidden"]:
                content, state = None, "hidden"
            else:
                content, state = text, "shown"
            out.append(
                {
                    "id": r["item_id"],
                    "digest": r["digest"],
                    "resident": r["author"],
                    "status": _FEEDBACK_STATUSES.get(r["status"], str(r["status"])),
                    "category": names.get(r["category"]),
                    "categoryId": r["category"],
                    "areaCode": r["area_code"],
                    "supports": r["support_count"],
                    "threshold": threshold,
                    "thresholdReached": r["answer_due_at"] is not None,
                    "answerDueAt": r["answer_due_at"],
                    "accepted": None if r["accepted"] is None else bool(r["accepted"]),
                    "answerText": answers.get(r["answer_hash"].lower()) if r["answer_hash"] else None,
                    "hidden": bool(r["hidden"]),
                    "content": content,
                    "contentState": state,
                    "contentHash": r["content_hash"],
                    "submittedBlock": r["submitted_block"],
                    "submittedTx": submitted.get(r["item_id"]),
                    "updatedBlock": r["updated_block"],
                }
            )
        return out

    def feedback(self, params: dict[str, str]) -> dict[str, Any]:
        where: list[str] = ["chain_id = ?"]
        args: list[Any] = [self.chain]
        if "status" in params:
            where.append("status = ?")
            args.append({v: k for k, v in _FEEDBACK_STATUSES.items()}[params["status"]])
        if "category" in params:
            ids = [
                int(k)
                for k, n in self.q(
                    "SELECT category, name FROM feedback_category WHERE chain_id = ?", self.chain
                )
                if str(n).lower() == params["category"].lower()
            ]
            where.append(f"category IN ({','.join('?' * len(ids))})" if ids else "0")
            args += ids
        if "resident" in params:
            where.append("author = ?")
            args.append(_checksum(params["resident"]))
        cond = " AND ".join(where)
        total = self.one(f"SELECT count(*) FROM feedback_item WHERE {cond}", *args)
        limit, offset = int(params.get("limit", 50)), int(params.get("offset", 0))
        rows = self.q(
            f"SELECT f.*, {_EXTRAS} FROM (SELECT * FROM feedback_item WHERE {cond} "
            "ORDER BY item_id DESC LIMIT ? OFFSET ?) AS f ORDER BY f.item_id DESC",
            *args,
            limit,
            offset,
        )
        return {"items": self.feedback_public(rows), "total": total}

    def resident(self, address: str) -> dict[str, Any]:
        c, who = self.chain, _checksum(address)
        balance = sum(
            int(v)
            for (v,) in self.q(
                "SELECT balance FROM balance WHERE chain_id = ? AND token = ? AND holder = ?",
                c,
                self.token,
                who,
            )
        )
        joined = (
            "plogging_session s LEFT OUTER JOIN plogging_review r "
            "ON r.chain_id = s.chain_id AND r.digest = s.digest"
        )
        n, grams, meters = self.q(
            "SELECT count(*), coalesce(sum(s.trash_grams), 0), coalesce(sum(s.distance_meters), 0) "
            f"FROM {joined} "
            "WHERE s.chain_id = ? AND coalesce(r.status, s.status) = 2 AND s.resident = ?",
            c,
            who,
        )[0]
        authored = self.q(
            f"SELECT f.*, {_EXTRAS} FROM feedback_item f WHERE chain_id = ? AND author = ? "
            "ORDER BY item_id DESC LIMIT 20",
            c,
            who,
        )
        outcomes = dict.fromkeys(_SESSION_STATUSES.values(), 0)
        for status, n_status in self.q(
            f"SELECT coalesce(r.status, s.status), count(*) FROM {joined} "
            "WHERE s.chain_id = ? AND s.resident = ? "
            "GROUP BY coalesce(r.status, s.status)",
            c,
            who,
        ):
            outcomes[_SESSION_STATUSES.get(status, str(status))] = n_status

        def count(table: str) -> int:
            return int(self.one(f"SELECT count(*) FROM {table} WHERE chain_id = ? AND resident = ?", c, who))

        def amount(table: str) -> int:
            return sum(
                int(v)
                for (v,) in self.q(f"SELECT amount FROM {table} WHERE chain_id = ? AND resident = ?", c, who)
            )

        def recent(table: str, **keys: str) -> list[dict[str, Any]]:
            rows = self.q(
                f"SELECT * FROM {table} WHERE chain_id = ? AND resident = ? "
                "ORDER BY block_number DESC, log_index DESC LIMIT 20",
                c,
                who,
            )
            return [
                {k: (bool(r[col]) if k == "burned" else r[col]) for k, col in keys.items()}
                | {"blockNumber": r["block_number"], "logIndex": r["log_index"], "txHash": r["tx_hash"]}
                for r in rows
            ]

        sessions = [
            {
                "id": r["digest"],
                "resident": r["resident"],
                "distanceMeters": r["distance_meters"],
                "durationSeconds": r["duration_seconds"],
                "trashGrams": r["trash_grams"],
                "areaCode": r["area_code"],
                "startedAt": r["started_at"],
                "evidenceHash": r["evidence_hash"],
                "reward": r["reward"],
                "status": _SESSION_STATUSES.get(r["current_status"], str(r["current_status"])),
                "reasonCode": r["reason_code"],
                "verifier": r["verifier"],
                "txHash": r["tx_hash"],
                "blockNumber": r["block_number"],
                "logIndex": r["log_index"],
            }
            for r in self.q(
                "SELECT s.*, coalesce(r.status, s.status) AS current_status, r.reason_code, r.verifier "
                f"FROM {joined} WHERE s.chain_id = ? AND s.resident = ? "
                "ORDER BY s.block_number DESC, s.log_index DESC LIMIT 20",
                c,
                who,
            )
        ]
        return {
            "address": who,
            "balance": balance,
            "plogging": {"sessions": n, "trashGrams": grams, "distanceMeters": meters},
            "sessionOutcomes": outcomes,
            "feedback": {"submitted": count("feedback_submission"), "supported": count("feedback_support")},
            "redeemed": amount("redemption"),
            "donated": amount("donation"),
            "claimed": amount("bonus_claim"),
            "recent": {
                "sessions": sessions,
                "feedback": self.feedback_public(authored),
                "supports": recent("feedback_support", itemId="item_id", digest="digest"),
                "redemptions": recent(
                    "redemption",
                    digest="digest",
                    partner="partner",
                    amount="amount",
                    offerHash="offer_hash",
                    burned="burned",
                ),
                "donations": recent(
                    "donation", digest="digest", causeId="cause_id", wallet="wallet", amount="amount"
                ),
                "claims": recent("bonus_claim", digest="digest", campaignId="campaign_id", amount="amount"),
            },
            "actions": {
                str(s): n
                for s, n in self.q(
                    "SELECT status, count(*) FROM action WHERE resident = ? GROUP BY status", who
                )
            },
        }


def make_app(db: str, chain_id: int, token: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    reads = Reads(db, chain_id, token)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        status, body = 404, None
        reads.db.execute("BEGIN")
        try:
            if path.startswith("/v1/residents/") and _ADDRESS.match(path[14:]):
                status, body = 200, reads.resident(path[14:])
            elif path.startswith("/v1/actions/") and _DIGEST.match(path[12:]):
                body = reads.action(path[12:])
                status = 200 if body is not None else 404
            elif path == "/v1/feedback":
                params = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
                status, body = 200, reads.feedback(params)
        finally:
            reads.db.execute("ROLLBACK")
        payload = orjson.dumps(body if body is not None else {"error": "not found"})
        headers = [*_JSON, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


def app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """uvicorn factory for the workers: the parent passes its arguments through the environment."""
    db, chain_id, token = os.environ["ESG_BENCH_BASELINE"].split("|")
    return make_app(db, int(chain_id), token)


def main(argv: list[str]) -> None:
    import uvicorn

    db, port, workers, chain_id, token = argv
    os.environ["ESG_BENCH_BASELINE"] = f"{db}|{chain_id}|{token}"
    uvicorn.run(
        "bench._api_baseline:app",
        factory=True,
        host="127.0.0.1",
        port=int(port),
        workers=int(workers),
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
