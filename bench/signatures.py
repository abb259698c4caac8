"""Benchmarks that need no running service. Figures are ratios against a peer measured in the same run."""

from __future__ import annotations

import os
import time
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from ledger.eip712 import normalize_signature, recover
from ledger.kinds import PLOGGING

_CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _signed(count: int) -> list[tuple[dict[str, Any], str, str]]:
    out = []
    for i in range(count):
        account = Account.create()
        message = {
            "resident": account.address,
            "distanceMeters": 1000 + i,
            "durationSeconds": 1800,
            "trashGrams": 500,
            "areaCode": 41117,
            "startedAt": 1_790_000_000,
            "evidenceHash": "0x" + os.urandom(32).hex(),
            "nonce": i,
            "deadline": 1_790_086_400,
        }
        typed = PLOGGING.typed_data(31337, _CONTRACT, message)
        signature = Account.sign_message(
            encode_typed_data(full_message=typed), account.key
        ).signature.to_0x_hex()
        out.append((typed, signature, account.address))
    return out


def signatures(count: int) -> dict[str, Any]:
    """Verifies `count` signed plogging actions both ways, on one core, and checks both agree."""
    samples = _signed(count)
    start = time.perf_counter()
    for typed, signature, address in samples:
        digest = PLOGGING.digest(31337, _CONTRACT, typed["message"])
        assert recover(digest, normalize_signature(signature)) == address
    ours = time.perf_counter() - start
    peer_count = max(1, count // 4)
    start = time.perf_counter()
    for typed, signature, address in samples[:peer_count]:
        assert Account.recover_message(encode_typed_data(full_message=typed), signature=signature) == address
    peer = time.perf_counter() - start
    try:
        import coincurve  # noqa: F401

        backend = "coincurve"
    except ImportError:  # pragma: no cover - coincurve is a dependency
        backend = "python"
    ours_per_s = count / ours
    peer_per_s = peer_count / peer
    return {
        "method": "digest + recover of distinct signed PloggingSession actions, one thread, same process",
        "actions": count,
        "ours_per_s": round(ours_per_s),
        "eth_account_per_s": round(peer_per_s),
        "ratio_vs_eth_account": round(ours_per_s / peer_per_s, 2),
        "signature_backend": backend,
    }
