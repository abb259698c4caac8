"""Triage's decisions without a node: a scripted pre-flight says how a batch and each entry alone
fare, and the plan must send, fail the offending entries alone, or wait for an outside cause."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from eth_hash.auto import keccak

from ledger.chain.revert import ErrorDecoder
from ledger.deploy import DeployedContract, Deployment
from ledger.models import Action
from ledger.relayer.causes import Causes
from ledger.relayer.fees import Fees
from ledger.relayer.isolation import Isolation
from ledger.relayer.kinds import PLOGGING
from ledger.relayer.preflight import Broken, Conditions, Verdict
from ledger.relayer.triage import STRIKES, Triage

TOKEN, REGISTRY, SENDER = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
ABI = [
    {"type": "error", "name": "EnforcedPause", "inputs": []},
    {"type": "error", "name": "Boom", "inputs": [{"name": "index", "type": "uint256"}]},
    {"type": "function", "name": "paused", "inputs": [], "outputs": [{"type": "bool"}]},
]
PAUSE = keccak(b"EnforcedPause()")[:4]
BOOM = keccak(b"Boom(uint256)")[:4] + bytes(32)
AT = Conditions(sender=SENDER, to=REGISTRY, fees=Fees(3, 1), base_fee=1, time=1)


def _action(resident: str, **overrides: Any) -> Action:
    message = {
        "resident": resident,
        "distanceMeters": 600,
        "durationSeconds": 300,
        "trashGrams": 10,
        "areaCode": 1,
        "startedAt": 1,
        "evidenceHash": "0x" + os.urandom(32).hex(),
        "nonce": 0,
        "deadline": 2**40,
        **overrides,
    }
    return Action(
        id="0x" + os.urandom(32).hex(),
        kind="plogging",
        contract=REGISTRY,
        resident=resident,
        nonce=0,
        deadline=2**40,
        message=json.dumps(message),
        signature="0x" + "aa" * 65,
        created_at=0,
        updated_at=0,
    )


def _residents(n: int) -> list[Action]:
    return [_action("0x" + os.urandom(20).hex()) for _ in range(n)]


class Scripted:
    """A pre-flight whose verdicts come from functions of the actions simulated."""

    def __init__(
        self,
        batch: Callable[[list[str]], Broken | None],
        alone: Callable[[str], Broken | None] = lambda _: None,
        *,
        ran: bool = True,
        paused: bool = False,
    ) -> None:
        self.batch, self.alone, self.ran, self.paused = batch, alone, ran, paused
        self.runs: list[list[str]] = []

    def run(self, *, kind: Any, at: Conditions, actions: list[Action], data: bytes) -> Verdict:
        ids = [a.id for a in actions]
        self.runs.append(ids)
        return Verdict(gas_used=1, broken=self.batch(ids))

    def each(
        self, *, kind: Any, at: Conditions, entries: Sequence[tuple[Action, bytes]], extra: Sequence[Any] = ()
    ) -> tuple[bool, list[Verdict], list[Any]]:
        probes = ["0x" + ("1" if self.paused else "0").rjust(64, "0"), "0x" + "1".rjust(64, "0")]
        return self.ran, [Verdict(gas_used=1, broken=self.alone(a.id)) for a, _ in entries], probes


def _triage(preflight: Scripted, isolation: Isolation | None = None) -> Triage:
    deployment = Deployment(
        chain_id=1,
        genesis_hash="0x",
        start_block=0,
        deployer="0x",
        contracts={
            "ParticipationToken": DeployedContract(address=TOKEN, abi=ABI, tx_hash="0x", block_number=0),
            "PloggingRegistry": DeployedContract(address=REGISTRY, abi=[], tx_hash="0x", block_number=0),
        },
    )
    decoder = ErrorDecoder([ABI])
    return Triage(
        preflight=preflight,  # type: ignore[arg-type]
        decoder=decoder,
        causes=Causes(deployment, decoder),
        isolation=isolation or Isolation(),
    )


def _reverts_with(culprits: set[str], data: bytes = BOOM) -> Callable[[list[str]], Broken | None]:
    return lambda ids: Broken(why="execution reverted", data=data) if culprits & set(ids) else None


def test_a_clean_batch_is_sent_whole() -> None:
    batch = _residents(5)
    plan = _triage(Scripted(lambda _: None)).plan(PLOGGING, AT, batch)
    assert plan.batch == batch and not plan.fail and plan.wait is None


def test_an_entry_that_reverts_the_batch_fails_alone_and_the_rest_is_sent() -> None:
    batch = _residents(6)
    bad = batch[2]
    pre = Scripted(
        _reverts_with({bad.id}), lambda i: Broken(why="reverted", data=BOOM) if i == bad.id else None
    )
    plan = _triage(pre).plan(PLOGGING, AT, batch)
    assert plan.fail == {bad.id: "makes its batch revert: Boom(index=0)"}
    assert plan.culprits == {bad.resident}
    assert plan.batch == [a for a in batch if a is not bad] and plan.wait is None


def test_a_pause_named_by_the_revert_makes_everything_wait() -> None:
    batch = _residents(4)
    plan = _triage(Scripted(lambda _: Broken(why="reverted", data=PAUSE))).plan(PLOGGING, AT, batch)
    assert plan.wait == "EnforcedPause()" and not plan.fail and not plan.batch


def test_a_pause_found_by_the_probes_makes_everything_wait() -> None:
    batch = _residents(4)
    everyone = Scripted(
        lambda _: Broken(why="reverted", data=b""), lambda _: Broken(why="reverted", data=b""), paused=True
    )
    plan = _triage(everyone).plan(PLOGGING, AT, batch)
    assert plan.wait == "ParticipationToken is paused" and not plan.fail


def test_every_entry_failing_alone_the_same_way_is_an_outside_cause() -> None:
    batch = _residents(4)
    plan = _triage(Scripted(_reverts_with({a.id for a in batch}), lambda _: Broken("r", data=BOOM))).plan(
        PLOGGING, AT, batch
    )
    assert plan.wait is not None and plan.wait.startswith("every entry of the batch fails alone")
    assert not plan.fail and not plan.batch


def test_a_node_that_runs_not_even_the_control_makes_everything_wait() -> None:
    refused = Broken(why="insufficient funds", refused=True)
    plan = _triage(Scripted(lambda _: refused, lambda _: refused, ran=False)).plan(
        PLOGGING, AT, _residents(3)
    )
    assert plan.wait is not None and "refuses to simulate" in plan.wait and not plan.fail


def test_entries_that_break_only_together_are_halved() -> None:
    batch = _residents(8)
    pre = Scripted(lambda ids: Broken(why="out of gas", data=b"") if len(ids) > 4 else None)
    plan = _triage(pre).plan(PLOGGING, AT, batch)
    assert plan.batch == batch[:4] and not plan.fail and not plan.culprits


def test_an_entry_that_cannot_be_encoded_fails_alone_with_the_encoders_reason() -> None:
    batch = _residents(3)
    bad = _action("0x" + "44" * 20, evidenceHash="0xzz")
    plan = _triage(Scripted(lambda _: None)).plan(PLOGGING, AT, [*batch, bad])
    assert plan.fail[bad.id].startswith("cannot be encoded for the contract: ValueError")
    assert plan.batch == batch


def test_an_entry_the_node_refuses_alone_fails_only_after_repeated_refusals() -> None:
    isolation = Isolation()
    batch = _residents(3)
    bad = batch[1]
    no = Broken(why="invalid argument 0", refused=True)
    pre = Scripted(lambda ids: no if bad.id in ids else None, lambda i: no if i == bad.id else None)
    for _ in range(STRIKES - 1):
        plan = _triage(pre, isolation).plan(PLOGGING, AT, batch)
        assert not plan.fail and plan.culprits == {bad.resident}
        assert plan.batch == [a for a in batch if a is not bad]
    plan = _triage(pre, isolation).plan(PLOGGING, AT, [bad])
    assert plan.fail == {bad.id: "the node refuses any batch that holds it: invalid argument 0"}


def test_a_passing_refusal_of_the_node_blames_nobody() -> None:
    no = Broken(why="internal error", refused=True)
    batch = _residents(2)
    plan = _triage(Scripted(lambda _: no, lambda i: no if i == batch[0].id else None)).plan(
        PLOGGING, AT, batch
    )
    assert not plan.fail and not plan.culprits and plan.wait == "the node: internal error"
