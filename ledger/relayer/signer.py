"""Signing and storing transactions: a new batch, a replacement, a no-op. Stored before broadcast.

Each function runs in the caller's database transaction, so the nonce, the raw bytes, every hash
and the actions' move to `submitted` commit together; only then is anything broadcast.
"""

from __future__ import annotations

import time
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import update
from sqlmodel import Session, col

from ..models import Action, AttemptStatus, RelayAttempt, RelayTx, TxStatus
from .fees import Fees
from .policy import TargetPolicy

NOOP_GAS = 21_000


class Signer:
    def __init__(self, *, accounts: dict[str, LocalAccount], chain_id: int, policy: TargetPolicy) -> None:
        self.accounts = accounts
        self.chain_id = chain_id
        self.policy = policy

    def _sign(self, sender: str, fields: dict[str, Any]) -> tuple[str, str]:
        self.policy.check(sender=sender, to=fields["to"], data=fields["data"])
        signed = self.accounts[sender].sign_transaction(
            {"type": 2, "chainId": self.chain_id, "value": 0, **fields}
        )
        return signed.hash.to_0x_hex(), signed.raw_transaction.to_0x_hex()

    def new(
        self,
        session: Session,
        *,
        sender: str,
        nonce: int,
        kind: str,
        to: str,
        data: bytes,
        gas: int,
        fees: Fees,
        action_count: int,
        valid_for: float,
    ) -> RelayTx:
        tx_hash, raw = self._sign(
            sender,
            {
                "nonce": nonce,
                "to": to,
                "data": data,
                "gas": gas,
                "maxFeePerGas": fees.max_fee,
                "maxPriorityFeePerGas": fees.tip,
            },
        )
        now = time.time()
        row = RelayTx(
            sender=sender,
            nonce=nonce,
            kind=kind,
            tx_hash=tx_hash,
            raw=raw,
            status=TxStatus.SIGNED,
            max_fee=fees.max_fee,
            priority_fee=fees.tip,
            gas_limit=gas,
            action_count=action_count,
            valid_until=now + valid_for if valid_for > 0 else None,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        session.add(
            RelayAttempt(
                tx_id=row.id,
                tx_hash=tx_hash,
                max_fee=fees.max_fee,
                priority_fee=fees.tip,
                noop=kind == "noop",
                created_at=now,
            )
        )
        return row

    def noop(self, session: Session, *, sender: str, nonce: int, fees: Fees) -> RelayTx:
        """A gap filler: an empty self-transfer that only uses up `nonce`."""
        return self.new(
            session,
            sender=sender,
            nonce=nonce,
            kind="noop",
            to=sender,
            data=b"",
            gas=NOOP_GAS,
            fees=fees,
            action_count=0,
            valid_for=0,
        )

    def replace(self, session: Session, *, tx: RelayTx, fees: Fees, noop: bool) -> RelayTx | None:
        """A new attempt for `tx`'s nonce (same call, or a no-op) with higher fees.

        Returns None if another process replaced it first (its current hash changed).
        """
        current = TypedTransaction.from_bytes(HexBytes(tx.raw)).as_dict()
        fields: dict[str, Any] = {
            "nonce": tx.nonce,
            "to": tx.sender if noop else to_checksum_address(current["to"]),
            "data": b"" if noop else bytes(current["data"]),
            "gas": NOOP_GAS if noop else int(current["gas"]),
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.tip,
        }
        tx_hash, raw = self._sign(tx.sender, fields)
        now = time.time()
        changed = session.execute(
            update(RelayTx)
            .where(col(RelayTx.id) == tx.id, col(RelayTx.tx_hash) == tx.tx_hash)
            .values(
                tx_hash=tx_hash,
                raw=raw,
                max_fee=fees.max_fee,
                priority_fee=fees.tip,
                gas_limit=fields["gas"],
                broadcasts=0,
                updated_at=now,
            )
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult at runtime
            return None
        session.execute(
            update(RelayAttempt)
            .where(col(RelayAttempt.tx_id) == tx.id, col(RelayAttempt.status) == AttemptStatus.SENT)
            .values(status=AttemptStatus.REPLACED)
        )
        assert tx.id is not None
        session.add(
            RelayAttempt(
                tx_id=tx.id,
                tx_hash=tx_hash,
                max_fee=fees.max_fee,
                priority_fee=fees.tip,
                noop=noop,
                created_at=now,
            )
        )
        if not noop:  # the actions' public txHash follows the attempt that may be mined
            session.execute(update(Action).where(col(Action.tx_id) == tx.id).values(tx_hash=tx_hash))
        stored = session.get(RelayTx, tx.id, populate_existing=True)
        assert stored is not None
        return stored
