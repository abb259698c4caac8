"""A hostile resident among honest ones: actions no API would accept, written straight into the
outbox, that break the batch they are in (an encoder that raises, an entry that makes the batch
revert, an encoding the contract hashes to another digest, an entry the node refuses to simulate
or to take in a transaction). Each hostile action fails alone with its reason; every honest action
is confirmed once, with no attempt counted against it; the hostile resident goes alone from then on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account import Account

from ledger.chain.decode import PLOGGING_RECORDED
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment

from ..support import Resident
from . import outbox_rows
from .conftest import Rig
from .proxy import Fault, Proxy

HONEST = 12


@pytest.fixture
def proxy(rpc: HttpRpc) -> Iterator[Proxy]:
    p = Proxy(rpc.url, timeout_seconds=1.5)
    yield p
    p.close()


# name → (message overrides, what its error must say)
VECTORS: dict[str, tuple[dict[str, Any], str]] = {
    "not-hex": ({"evidenceHash": "0x" + "zz" * 32}, "cannot be encoded for the contract: ValueError"),
    "33-bytes": ({"evidenceHash": "0x" + "ab" * 33}, "cannot be encoded for the contract: ValueOutOfBounds"),
    "out-of-range": ({"distanceMeters": 2**40}, "makes its batch revert: SignedActionsMalformedAction("),
    # The reported bug: whitespace in the hex, which bytes.fromhex skips: 31 bytes, padded by eth_abi,
    # so the contract hashes (and records, since it is signed so) another session than the stored one.
    "whitespace": (
        {"evidenceHash": "0x" + "ab" * 31 + "  "},
        "its encoding is not the action its resident signed",
    ),
}


def _hostile(rig: Rig, deployment: Deployment, who: Any, nonce: int, vector: str) -> tuple[str, str, str]:
    """One hostile action (id, the error it must end with, a hex fragment only its calldata holds)."""
    message = outbox_rows.session(who.address, nonce)
    marker = message["evidenceHash"][2:]
    if vector in VECTORS:
        overrides, expected = VECTORS[vector]
        signed = dict(message, **overrides)
        if vector == "whitespace":
            signed["evidenceHash"] = "0x" + "ab" * 31 + "00"  # what the contract will see and hash
        signature = outbox_rows.signed_by(who, deployment, signed if vector == "whitespace" else message)
        message.update(overrides)
        marker = ""
    else:  # a well-formed action that the node refuses, by its bytes
        signature = outbox_rows.signed_by(who, deployment, message)
        expected = {
            "node-refuses-simulation": "the node refuses any batch that holds it: invalid argument",
            "node-refuses-broadcast": "the node refuses any transaction that carries it: oversized data",
        }[vector]
    action_id = None if vector in VECTORS else outbox_rows.digest(deployment, message)
    return outbox_rows.insert(rig.engine, deployment, message, signature, action_id), expected, marker


def _refuse(proxy: Proxy, vector: str, marker: str) -> None:
    if vector == "node-refuses-simulation":
        proxy.add("eth_simulateV1", *[Fault("error", "invalid argument 0: bad call", match=marker)] * 40)
    elif vector == "node-refuses-broadcast":
        proxy.add("eth_sendRawTransaction", *[Fault("error", "oversized data", match=marker)] * 80)


def _assert_honest_untouched(rig: Rig, honest: list[str]) -> None:
    rows = rig.rows("SELECT id, status, attempts FROM action")
    by_id = {i: (st, n) for i, st, n in rows}
    assert [by_id[i] for i in honest] == [("confirmed", 0)] * len(honest)
    records = rig.chain_records()
    assert [records[i] for i in honest] == [1] * len(honest)


@pytest.mark.parametrize("vector", [*VECTORS, "node-refuses-simulation", "node-refuses-broadcast"])
def test_a_hostile_entry_fails_alone_and_costs_the_honest_nothing(
    make_rig: Callable[..., Rig], proxy: Proxy, deployment: Deployment, vector: str
) -> None:
    rig = make_rig(proxy.url)
    honest = rig.accept([Resident() for _ in range(HONEST // 2)])
    who = Account.create()
    hostile, expected, marker = _hostile(rig, deployment, who, 0, vector)
    _refuse(proxy, vector, marker)
    honest += rig.accept([Resident() for _ in range(HONEST // 2)])  # submitted at once: one batch

    rig.run_until(rig.all_final([*honest, hostile]))

    _assert_honest_untouched(rig, honest)
    [(status, error)] = rig.rows("SELECT status, error FROM action WHERE id = :i", i=hostile)
    assert status == "failed" and error.startswith(expected), error
    assert rig.relayer.isolation.quarantined(who.address)
    carried = rig.rows(
        "SELECT count(*) FROM action_event WHERE action_id = :i AND to_status = 'submitted'", i=hostile
    )
    if vector != "node-refuses-broadcast":  # the only one whose batch simulates fine
        assert carried == [(0,)]  # it never went on chain
        assert rig.rows("SELECT count(*) FROM relay_tx WHERE status != 'mined'") == [(0,)]


def test_one_hostile_resident_with_every_kind_of_bad_action(
    make_rig: Callable[..., Rig], proxy: Proxy, deployment: Deployment
) -> None:
    rig = make_rig(proxy.url)
    who = Account.create()
    bad = []
    for nonce, vector in enumerate([*VECTORS, "node-refuses-simulation"]):
        action_id, expected, marker = _hostile(rig, deployment, who, nonce, vector)
        _refuse(proxy, vector, marker)
        bad.append((action_id, expected))
    honest = rig.accept([Resident() for _ in range(HONEST)])

    rig.run_until(rig.all_final([*honest, *(i for i, _ in bad)]))

    _assert_honest_untouched(rig, honest)
    for action_id, expected in bad:
        [(status, error, attempts)] = rig.rows(
            "SELECT status, error, attempts FROM action WHERE id = :i", i=action_id
        )
        assert (status, attempts) == ("failed", 0) and error.startswith(expected), error
    # The honest went in one transaction; each hostile action was judged alone and never sent.
    assert rig.rows("SELECT action_count, status FROM relay_tx") == [(HONEST, "mined")]


def test_a_batch_that_simulated_fine_but_reverts_on_chain_is_bisected(
    make_rig: Callable[..., Rig], proxy: Proxy, deployment: Deployment
) -> None:
    rig = make_rig(proxy.url)
    honest = rig.accept([Resident() for _ in range(HONEST)])
    who = Account.create()
    hostile, expected, _ = _hostile(rig, deployment, who, 0, "out-of-range")
    # The node's simulation lies once (as a node whose state differs from the block's would): it
    # says the whole batch records fine, so the batch is sent, and reverts on chain.
    registry = deployment.address("PloggingRegistry")
    logs = [
        {"address": registry, "topics": [PLOGGING_RECORDED, i, "0x" + "00" * 32], "data": "0x"}
        for i in [*honest, hostile]
    ]
    fake = [{"calls": [{"status": "0x1", "gasUsed": hex(3_000_000), "returnData": "0x", "logs": logs}]}]
    proxy.add("eth_simulateV1", Fault("result", result=fake))

    rig.run_until(rig.all_final([*honest, hostile]))

    _assert_honest_untouched(rig, honest)
    [(status, error, attempts)] = rig.rows(
        "SELECT status, error, attempts FROM action WHERE id = :i", i=hostile
    )
    assert (status, attempts) == ("failed", 0) and error.startswith(expected), error
    txs = rig.rows("SELECT action_count, status FROM relay_tx ORDER BY id")
    assert txs[0] == (HONEST + 1, "reverted") and all(st == "mined" for _, st in txs[1:])
    assert max(n for n, _ in txs[1:]) <= (HONEST + 2) // 2  # bisected: at most half of it at once
    back = "SELECT reason FROM action_event WHERE action_id = :i AND from_status = :s AND to_status = :q"
    [(reason,)] = rig.rows(back, i=honest[0], s="submitted", q="queued")
    assert "SignedActionsMalformedAction" in reason  # the replay's revert reason, on record
