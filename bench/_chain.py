"""Fills a fresh anvil with plogging sessions for `esg-ledger bench indexer`, fast: sessions signed with
coincurve over ledger.eip712's digests, `recordBatch` calldata encoded once, raw transactions signed
with the relayer key and sent in batched JSON-RPC calls (anvil automines one block per transaction).

Each session makes two events (PloggingRecorded and the token's Transfer) and each batch of 100 one
more (PloggingBatchCommitted), so 100,000 sessions are ~201,000 events.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey
from eth_abi.abi import encode
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.kinds import PLOGGING
from ledger.settings import Settings

_RECORD_BATCH = keccak(
    b"recordBatch(((address,uint32,uint32,uint32,uint32,uint64,bytes32,uint64,uint64),bytes)[])"
)[:4]
_ENTRIES = "((address,uint32,uint32,uint32,uint32,uint64,bytes32,uint64,uint64),bytes)[]"
_SET_BOUNDS = keccak(b"setBounds((uint32,uint32,uint32,uint32,uint32,uint32,uint32,uint8))")[:4]
BATCH = 100  # PloggingRegistry.MAX_BATCH


@dataclass
class BenchResident:
    key: PrivateKey
    address: str
    nonce: int = 0


class SessionFactory:
    """Signed plogging sessions for a fixed set of residents, each batch 100 distinct residents."""

    def __init__(self, settings: Settings, deployment: Deployment, rpc: HttpRpc, residents: int) -> None:
        self.settings = settings
        self.deployment = deployment
        self.rpc = rpc
        self.registry = deployment.address("PloggingRegistry")
        self.residents = []
        for _ in range(residents):
            key = PrivateKey(os.urandom(32))
            address = to_checksum_address(keccak(key.public_key.format(compressed=False)[1:])[-20:])
            self.residents.append(BenchResident(key, address))
        self.relayer = settings.relayers()[0]
        self.admin = settings.deployer()
        self.next_resident = 0

    def _tx(self, account: Any, to: str, data: bytes, gas: int) -> str:
        nonce = int(self.rpc.call("eth_getTransactionCount", [account.address, "pending"]), 16)
        return self._signed(account, to, data, gas, nonce)

    def _signed(self, account: Any, to: str, data: bytes, gas: int, nonce: int) -> str:
        tx = {
            "to": to,
            "data": data,
            "gas": gas,
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9,
            "nonce": nonce,
            "chainId": self.deployment.chain_id,
            "type": 2,
        }
        return "0x" + bytes(Account.sign_transaction(tx, account.key).raw_transaction).hex()

    def raise_caps(self) -> None:
        """The deployer (POLICY_ROLE) lifts the daily caps, so a few thousand residents suffice."""
        bounds = (300, 14_400, 50_000, 600, 20_000, 7 * 86_400, 4_000_000_000, 255)
        data = _SET_BOUNDS + encode(["(uint32,uint32,uint32,uint32,uint32,uint32,uint32,uint8)"], [bounds])
        tx_hash = self.rpc.call(
            "eth_sendRawTransaction", [self._tx(self.admin, self.registry, data, 200_000)]
        )
        deadline = time.monotonic() + 30
        receipt = None
        while receipt is None and time.monotonic() < deadline:  # automine is quick, not synchronous
            receipt = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
            if receipt is None:
                time.sleep(0.05)
        if receipt is None or receipt["status"] != "0x1":
            raise RuntimeError(f"setBounds failed: {receipt}")

    def batch(self, now: int) -> bytes:
        """recordBatch calldata for the next 100 residents (round-robin), one session each."""
        entries = []
        for _ in range(BATCH):
            r = self.residents[self.next_resident]
            self.next_resident = (self.next_resident + 1) % len(self.residents)
            evidence = os.urandom(32)
            message: dict[str, Any] = {
                "resident": r.address,
                "distanceMeters": 1000 + r.nonce % 500,
                "durationSeconds": 300,
                "trashGrams": 500,
                "areaCode": 41117,
                # chronological per resident (no overlaps), at most 254 sessions a day
                "startedAt": now - 7 * 86_400 + 600 + r.nonce * 340,
                "evidenceHash": "0x" + evidence.hex(),
                "nonce": r.nonce,
                "deadline": now + 86_400,
            }
            r.nonce += 1
            digest = PLOGGING.digest(self.deployment.chain_id, self.registry, message)
            sig = r.key.sign_recoverable(digest, hasher=None)
            signature = sig[:64] + bytes([sig[64] + 27])
            fields = [evidence if name == "evidenceHash" else message[name] for name, _ in PLOGGING.fields]
            entries.append((tuple(fields), signature))
        return _RECORD_BATCH + encode([_ENTRIES], [entries])

    def raw_batches(self, count: int, now: int) -> Iterator[str]:
        nonce = int(self.rpc.call("eth_getTransactionCount", [self.relayer.address, "pending"]), 16)
        for i in range(count):
            yield self._signed(self.relayer, self.registry, self.batch(now), 14_000_000, nonce + i)

    def fill(self, sessions: int, *, chunk: int = 8) -> int:
        """Records `sessions` sessions (rounded up to whole batches); returns the head block."""
        now = int(self.rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        pending: list[str] = []
        for raw in self.raw_batches(-(-sessions // BATCH), now):
            pending.append(raw)
            if len(pending) == chunk:
                self._send(pending)
                pending = []
        if pending:
            self._send(pending)
        return int(self.rpc.call("eth_blockNumber"), 16)

    def _send(self, raws: list[str]) -> None:
        replies = self.rpc.batch([("eth_sendRawTransaction", [raw]) for raw in raws])
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        last = str(replies[-1])
        deadline = time.monotonic() + 120
        while self.rpc.call("eth_getTransactionReceipt", [last]) is None:
            if time.monotonic() > deadline:
                raise RuntimeError("anvil did not mine the benchmark's transactions")
            time.sleep(0.01)
