"""Residents' actions signed offline for the pipeline benchmark (not timed): coincurve over the
digests of `ledger.kinds`, each wrapped as the body of one `POST /v1/actions`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from coincurve import PrivateKey
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from ledger.deploy import Deployment
from ledger.kinds import KINDS

# a resident's sessions are chronological: session `nonce` starts 1,801 s after the previous one
SESSION_SECONDS = 1800
SESSION_SPACING = 1801


@dataclass
class Signed:
    digest: str
    body: bytes  # the JSON of one `POST /v1/actions` body
    item: dict[str, Any]
    kind: str = "plogging"


@dataclass
class Resident:
    key: PrivateKey
    address: str
    nonces: dict[str, int] = field(default_factory=dict)  # contract name → next nonce

    @classmethod
    def of(cls, label: str) -> Resident:
        key = PrivateKey(keccak(label.encode()))
        return cls(key, to_checksum_address(keccak(key.public_key.format(compressed=False)[1:])[-20:]))

    def next_nonce(self, contract: str) -> int:
        nonce = self.nonces.get(contract, 0)
        self.nonces[contract] = nonce + 1
        return nonce


def fresh_residents(seed: int | str, count: int) -> list[Resident]:
    return [Resident.of(f"esg-bench-{seed}-{i}") for i in range(count)]


def sign_message(deployment: Deployment, kind: str, key: PrivateKey, message: dict[str, Any]) -> Signed:
    """`message` (every field of `kind`'s type) signed by `key`, as a `POST /v1/actions` body."""
    spec = KINDS[kind].eip712
    contract = deployment.address(spec.contract)
    digest = spec.digest(deployment.chain_id, contract, message)
    sig = key.sign_recoverable(digest, hasher=None)
    signature = "0x" + (sig[:64] + bytes([sig[64] + 27])).hex()
    item = {"typedData": spec.typed_data(deployment.chain_id, contract, message), "signature": signature}
    return Signed("0x" + digest.hex(), json.dumps(item).encode(), item, kind)


def sign(
    deployment: Deployment, kind: str, resident: Resident, fields: dict[str, Any], *, deadline: int
) -> Signed:
    """`kind`'s action from `resident` with the next nonce of its contract."""
    nonce = resident.next_nonce(KINDS[kind].eip712.contract)
    message = {"resident": resident.address, **fields, "nonce": nonce, "deadline": deadline}
    return sign_message(deployment, kind, resident.key, message)


def session_fields(resident: Resident, now: int) -> dict[str, Any]:
    """A plogging session that starts after the resident's previous one (by its next nonce) ended."""
    n = resident.nonces.get("PloggingRegistry", 0)
    return {
        "distanceMeters": 3000 + n,
        "durationSeconds": SESSION_SECONDS,
        "trashGrams": 850,
        "areaCode": 41117,
        "startedAt": now - 6 * 86_400 + n * SESSION_SPACING,
        "evidenceHash": "0x" + keccak(f"{resident.address}-{n}".encode()).hex(),
    }


def sign_actions(*, deployment: Deployment, residents: int, per_resident: int, seed: int) -> list[Signed]:
    """`residents` fresh keys, `per_resident` sessions each (nonces 0…), interleaved by nonce."""
    now = int(time.time())
    keys = fresh_residents(seed, residents)
    return [
        sign(deployment, "plogging", r, session_fields(r, now), deadline=now + 86_400)
        for _ in range(per_resident)
        for r in keys
    ]
