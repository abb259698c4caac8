"""Partner verification (`ledger.verify`) on a seeded chain: records of every kind with their current
status, balances, redemptions, and proof bundles — checked offline, against a second anvil forked from
the first, against one restarted from a state dump, and refused when forged, each with its reason."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode

from ledger.chain.events import EVENTS
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment, deploy
from ledger.errors import RpcError
from ledger.node import AnvilNode
from ledger.settings import Settings
from ledger.verify import (
    BundleError,
    balance_at,
    check_bundle,
    find_record,
    make_bundle,
    verify_redemption,
)

from ..support import ROOT, Resident, free_port
from .scenario import Scenario

TOPIC = {e.name: e.topic0 for e in EVENTS}


@pytest.fixture(scope="module")
def scenario(settings: Settings, deployment: Deployment) -> Scenario:
    s = Scenario(settings, deployment)
    s.run()
    return s


def _logs(rpc: HttpRpc, deployment: Deployment, event: str) -> list[dict[str, Any]]:
    return list(
        rpc.call(
            "eth_getLogs",
            [{"topics": [TOPIC[event]], "fromBlock": hex(deployment.start_block), "toBlock": "latest"}],
        )
    )


@pytest.fixture(scope="module")
def digests(scenario: Scenario, rpc: HttpRpc, deployment: Deployment) -> dict[str, str]:
    """The seeded records to look up, by what the scenario did to them (found through the logs that
    name them, then looked up by digest alone)."""
    revoked = _logs(rpc, deployment, "PloggingRevoked")[0]["topics"][1]
    verified = {x["topics"][1] for x in _logs(rpc, deployment, "PloggingVerified")} - {revoked}
    submitted = _logs(rpc, deployment, "FeedbackSubmitted")
    return {
        "auto_accepted": _logs(rpc, deployment, "PloggingRecorded")[0]["topics"][1],
        "rejected": _logs(rpc, deployment, "PloggingRejected")[0]["topics"][1],
        "revoked": revoked,
        "verified": verified.pop(),
        "answered": submitted[0]["topics"][2],
        "moderated": submitted[1]["topics"][2],
        "support": _logs(rpc, deployment, "FeedbackSupported")[0]["topics"][2],
        "redemption": _logs(rpc, deployment, "Redeemed")[0]["topics"][1],
        "donation": _logs(rpc, deployment, "Donated")[0]["topics"][1],
        "claim": _logs(rpc, deployment, "BonusClaimed")[0]["topics"][2],
    }


# what the scenario did to each record: kind, status, and (feedback) hidden
EXPECTED = {
    "auto_accepted": ("plogging", "accepted", None),
    "rejected": ("plogging", "rejected", None),
    "revoked": ("plogging", "revoked", None),
    "verified": ("plogging", "accepted", None),
    "answered": ("feedback", "closed", False),
    "moderated": ("feedback", "submitted", True),
    "support": ("support", "recorded", None),
    "redemption": ("redemption", "recorded", None),
    "donation": ("donation", "recorded", None),
    "claim": ("claim", "recorded", None),
}


def _summary(record: Any) -> tuple[Any, ...]:
    return (
        record.kind,
        record.status,
        record.block_number,
        record.block_hash,
        record.tx_hash,
        record.log_index,
    )


def test_every_kind_found_by_digest_with_its_current_status(
    scenario: Scenario, rpc: HttpRpc, deployment: Deployment, digests: dict[str, str]
) -> None:
    for name, (kind, status, hidden) in EXPECTED.items():
        record = find_record(rpc, deployment, digests[name], finality_depth=3)
        assert (record.found, record.kind, record.status) == (True, kind, status), name
        assert record.fields is not None and record.fields["digest"] == digests[name]
        receipt = rpc.call("eth_getTransactionReceipt", [record.tx_hash])
        assert int(receipt["blockNumber"], 16) == record.block_number
        assert any(int(x["logIndex"], 16) == record.log_index for x in receipt["logs"])
        assert record.confirmations == int(rpc.call("eth_blockNumber"), 16) - record.block_number + 1
        assert record.final == (record.confirmations >= 3)
        if hidden is not None:
            assert record.item is not None and record.item["hidden"] is hidden, name
    rejected = find_record(rpc, deployment, digests["rejected"])
    assert [h["event"] for h in rejected.history] == ["PloggingRejected"]
    assert rejected.history[0]["fields"]["reason_code"] == 7
    revoked = find_record(rpc, deployment, digests["revoked"])
    assert [h["event"] for h in revoked.history] == ["PloggingVerified", "PloggingRevoked"]
    assert revoked.history[1]["fields"]["reason_code"] == 3
    answered = find_record(rpc, deployment, digests["answered"])
    assert answered.item is not None and answered.item["accepted"] is True and answered.item["supports"] == 2
    assert answered.fields is not None and answered.fields["resident"] == scenario.a.address
    moderated = find_record(rpc, deployment, digests["moderated"])
    assert [h["event"] for h in moderated.history] == ["FeedbackModerated"]
    # the newest block is not final at depth 64 on this short chain; the deployment's is at depth 1
    assert not find_record(rpc, deployment, digests["claim"]).final


def test_an_unknown_digest_and_a_refused_one_are_not_found(
    scenario: Scenario, rpc: HttpRpc, deployment: Deployment
) -> None:
    assert not find_record(rpc, deployment, "0x" + "ab" * 32).found
    failed = _logs(rpc, deployment, "ActionFailed")[0]["topics"][1]  # the session that was too fast
    refused = find_record(rpc, deployment, failed)
    assert not refused.found
    assert refused.failures[0]["reason"].startswith("PloggingRegistryTooFast(")


class _CappedNode:
    """The real node behind a public provider's cap: eth_getLogs over more than 8 blocks is refused."""

    def __init__(self, rpc: HttpRpc) -> None:
        self.rpc = rpc
        self.refused = 0

    def call(self, method: str, params: Any = ()) -> Any:
        if method == "eth_getLogs":
            query = params[0]
            if int(query["toBlock"], 16) - int(query["fromBlock"], 16) >= 8:
                self.refused += 1
                raise RpcError(method, -32005, "query exceeds max block range 8")
        return self.rpc.call(method, params)


def test_a_node_that_caps_log_ranges_gives_the_same_records(
    scenario: Scenario, rpc: HttpRpc, deployment: Deployment, digests: dict[str, str]
) -> None:
    capped = _CappedNode(rpc)
    for name in ("revoked", "answered", "redemption"):
        assert find_record(capped, deployment, digests[name]) == find_record(rpc, deployment, digests[name])
    assert verify_redemption(capped, deployment, digests["redemption"]).valid
    assert capped.refused > 0


def test_balance_at_a_block_against_a_claim(scenario: Scenario, rpc: HttpRpc, deployment: Deployment) -> None:
    token = scenario.c["ParticipationToken"]
    for resident in (scenario.a, scenario.b, scenario.c_resident):
        expected = token.functions.balanceOf(resident.address).call()
        assert balance_at(rpc, deployment, resident.address, claimed=expected).agrees is True
        assert balance_at(rpc, deployment, resident.address, claimed=expected + 1).agrees is False
    # b's first session's block: b holds exactly that session's reward there
    first = _logs(rpc, deployment, "PloggingRecorded")[1]
    assert first["topics"][2][-40:] == scenario.b.address[2:].lower()
    block = int(first["blockNumber"], 16)
    reward = int(first["data"][2:][64 * 7 : 64 * 8], 16)  # PloggingRecorded's reward, word 7 of data
    assert balance_at(rpc, deployment, scenario.b.address, block=block).balance == reward
    assert balance_at(rpc, deployment, scenario.b.address, block=block - 1).balance == 0


def test_redemption_partner_registered_then_though_removed_since(
    scenario: Scenario, rpc: HttpRpc, deployment: Deployment, digests: dict[str, str]
) -> None:
    result = verify_redemption(rpc, deployment, digests["redemption"])
    assert result.valid and result.partner == scenario.partner.address
    assert result.expires_at == 2**64 - 1 and result.registration is not None
    assert result.registration["event"] == "PartnerSet"
    removal = _logs(rpc, deployment, "PartnerRemoved")[0]
    assert int(removal["blockNumber"], 16) > result.record.block_number  # removed later: still valid then
    redeemed = _logs(rpc, deployment, "Redeemed")[0]
    assert result.amount == int(redeemed["data"][2:66], 16)  # Redeemed's amount, word 0 of its data
    assert result.burned is True  # the partner was registered with burnOnRedeem


def test_bundles_of_every_kind_check_offline_and_against_the_node(
    scenario: Scenario, rpc: HttpRpc, deployment: Deployment, digests: dict[str, str]
) -> None:
    for name, (kind, status, hidden) in EXPECTED.items():
        bundle = json.loads(json.dumps(make_bundle(rpc, deployment, digests[name])))  # as written to a file
        offline = check_bundle(bundle)
        assert offline.canonical is None and offline.not_checked
        assert (offline.kind, offline.digest) == (kind, digests[name])
        assert offline.status == status + (" (hidden)" if hidden else "")
        online = check_bundle(bundle, rpc, deployment=deployment)
        assert online.canonical is True
        record = find_record(rpc, deployment, digests[name])
        assert (online.block_hash, online.tx_hash, online.log_index) == (
            record.block_hash,
            record.tx_hash,
            record.log_index,
        )
    revoked = make_bundle(rpc, deployment, digests["revoked"])
    assert [p["event"]["name"] for p in revoked["later"]] == ["PloggingVerified", "PloggingRevoked"]


def _refused(bundle: dict[str, Any], reason: str, node: HttpRpc | None = None) -> str:
    with pytest.raises(BundleError) as caught:
        check_bundle(bundle, node)
    assert caught.value.reason == reason, str(caught.value)
    return str(caught.value)


def test_forged_bundles_are_refused_with_their_reason(
    scenario: Scenario, rpc: HttpRpc, deployment: Deployment, digests: dict[str, str]
) -> None:
    good = make_bundle(rpc, deployment, digests["redemption"])
    check_bundle(good)

    # an altered log: a larger amount in the log (and in the stated fields)
    forged = copy.deepcopy(good)
    amount = forged["record"]["fields"]["amount"] + 1000
    words = forged["record"]["log"]["data"][2:]
    forged["record"]["log"]["data"] = "0x" + encode(["uint256"], [amount]).hex() + words[64:]
    forged["record"]["fields"]["amount"] = amount
    assert "not the receipt's log" in _refused(forged, "log-mismatch")
    # ... and in the receipt too: the receipt is then not the one the block holds
    forged["record"]["receipt"]["logs"][forged["record"]["logPosition"]]["data"] = forged["record"]["log"][
        "data"
    ]
    _refused(forged, "not-in-block")
    # the stated record differs from what the log decodes to
    forged = copy.deepcopy(good)
    forged["record"]["fields"]["amount"] += 1
    _refused(forged, "record-mismatch")

    # a wrong block hash
    forged = copy.deepcopy(good)
    forged["record"]["header"]["hash"] = "0x" + "11" * 32
    _refused(forged, "header-hash")
    forged = copy.deepcopy(good)
    forged["record"]["header"]["receiptsRoot"] = "0x" + "22" * 32  # a header made to fit other receipts
    _refused(forged, "header-hash")

    # a receipt that is not in the block: another transaction's receipt, with its own proof
    other = make_bundle(rpc, deployment, digests["donation"])
    forged = copy.deepcopy(good)
    forged["record"]["receipt"], forged["record"]["receiptProof"] = (
        other["record"]["receipt"],
        other["record"]["receiptProof"],
    )
    assert "receipt proof does not verify" in _refused(forged, "not-in-block")
    # ... a real block's header with the record's proofs: the proofs do not lead to its roots
    forged = copy.deepcopy(good)
    forged["record"]["header"] = other["record"]["header"]
    for key in ("blockHash", "blockNumber"):
        forged["record"]["log"][key] = other["record"]["log"][key]
    _refused(forged, "not-in-block")
    # ... and a tampered proof node
    forged = copy.deepcopy(good)
    node = forged["record"]["receiptProof"][-1]
    forged["record"]["receiptProof"][-1] = node[:-2] + ("00" if node[-2:] != "00" else "01")
    _refused(forged, "not-in-block")

    # a status the proven events do not give
    forged = copy.deepcopy(make_bundle(rpc, deployment, digests["revoked"]))
    forged["status"] = "accepted"
    _refused(forged, "record-mismatch")
    # an event this kind is not recorded by
    forged = copy.deepcopy(good)
    forged["kind"] = "donation"
    _refused(forged, "record-mismatch")
    # a bundle naming another contract than the deployment's
    forged = copy.deepcopy(good)
    forged["contract"]["address"] = deployment.address("FeedbackBox")
    _refused(forged, "log-mismatch")


@pytest.fixture(scope="module")
def other_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Deployment, Scenario]]:
    """Another chain (id 31338) with the same contracts and one recorded session."""
    with AnvilNode(port=free_port(), block_time=0, chain_id=31338) as node:
        settings = Settings(env="test", rpc_url=node.url, data_dir=tmp_path_factory.mktemp("other"))  # type: ignore[arg-type]
        deployment = deploy(settings)
        s = Scenario(settings, deployment)
        s.record(s.session(Resident()))
        yield settings, deployment, s


def test_a_receipt_from_another_chain_is_refused(
    other_chain: tuple[Settings, Deployment, Scenario], rpc: HttpRpc, deployment: Deployment
) -> None:
    settings, other, _ = other_chain
    other_rpc = HttpRpc(settings.rpc)
    digest = _logs(other_rpc, other, "PloggingRecorded")[0]["topics"][1]
    bundle = make_bundle(other_rpc, other, digest)
    assert check_bundle(bundle, other_rpc).canonical  # a true bundle of chain 31338
    forged = copy.deepcopy(bundle)
    forged["chainId"] = deployment.chain_id  # passed off as the city's chain
    assert "signed for chain 31338" in _refused(forged, "chain-id")
    with pytest.raises(BundleError) as caught:  # the city's node is another chain
        check_bundle(bundle, rpc)
    assert caught.value.reason == "chain-id"


def _restarted_from_dump(rpc: HttpRpc, tmp_path: Path) -> AnvilNode:
    """A new anvil started with `--state` from a dump of the first one's state."""
    state = tmp_path / "anvil-state.json"
    dump = rpc.call("anvil_dumpState")
    node = AnvilNode(port=free_port(), block_time=0, state_path=state, state_interval=1)
    node.start()
    assert HttpRpc(node.url).call("anvil_loadState", [dump])
    node.stop()  # dumps to `state`
    return node.start()  # loads it: a restarted node


def test_verification_agrees_on_a_forked_node_and_a_restarted_one(
    scenario: Scenario,
    anvil: AnvilNode,
    rpc: HttpRpc,
    deployment: Deployment,
    digests: dict[str, str],
    tmp_path: Path,
) -> None:
    bundles = {name: make_bundle(rpc, deployment, d) for name, d in digests.items()}
    expected = {name: _summary(find_record(rpc, deployment, d)) for name, d in digests.items()}
    fork = AnvilNode(port=free_port(), block_time=0, extra_args=("--fork-url", anvil.url)).start()
    restarted = _restarted_from_dump(rpc, tmp_path)
    try:
        for node in (fork, restarted):
            other = HttpRpc(node.url)
            assert int(other.call("eth_blockNumber"), 16) >= int(rpc.call("eth_blockNumber"), 16)
            for name, d in digests.items():
                assert _summary(find_record(other, deployment, d)) == expected[name], (node.url, name)
                assert check_bundle(bundles[name], other).canonical is True
        # a block only the fork has: its bundle is refused by the first node as not canonical
        fork_rpc = HttpRpc(fork.url)
        fork_settings = Settings(env="test", rpc_url=fork.url, data_dir=tmp_path / "fork")  # type: ignore[arg-type]
        s = Scenario(fork_settings, deployment)
        fresh = Resident()
        s.record(s.session(fresh))
        recorded = _logs(fork_rpc, deployment, "PloggingRecorded")[-1]
        assert recorded["topics"][2][-40:] == fresh.address[2:].lower()
        fork_bundle = make_bundle(fork_rpc, deployment, recorded["topics"][1])
        assert check_bundle(fork_bundle, fork_rpc).canonical
        check_bundle(fork_bundle)  # offline, it proves itself
        assert "canonical chain" in _refused(fork_bundle, "not-canonical", rpc)
    finally:
        fork.stop()
        restarted.stop()


def _cli(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ESG_RPC_URL": settings.rpc,
        "ESG_DATA_DIR": str(settings.data_dir),
        "ESG_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", "verify", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_record_bundle_and_check(
    scenario: Scenario, settings: Settings, digests: dict[str, str], tmp_path: Path
) -> None:
    record = _cli("record", digests["revoked"], settings=settings)
    assert record.returncode == 0, record.stderr
    assert record.stdout.startswith(f"plogging {digests['revoked']}: revoked")
    as_json = json.loads(_cli("record", digests["moderated"], "--json", settings=settings).stdout)
    assert as_json["status"] == "submitted" and as_json["item"]["hidden"] is True
    legacy = _cli(digests["donation"], settings=settings)  # the older `verify <digest>` form
    assert legacy.returncode == 0 and '"found": true' in legacy.stdout
    out = tmp_path / "bundle.json"
    made = _cli("bundle", digests["claim"], "--out", str(out), settings=settings)
    assert made.returncode == 0, made.stderr
    offline = _cli("check", str(out), settings=settings)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.startswith("OK claim") and "canonicality NOT checked" in offline.stdout
    online = _cli("check", str(out), "--rpc", settings.rpc, "--json", settings=settings)
    assert online.returncode == 0 and json.loads(online.stdout)["canonical"] is True
    bundle = json.loads(out.read_text())
    bundle["record"]["header"]["hash"] = "0x" + "00" * 32
    out.write_text(json.dumps(bundle))
    refused = _cli("check", str(out), settings=settings)
    assert refused.returncode == 1 and refused.stdout.startswith("REFUSED (header-hash)")
    redemption = _cli("redemption", digests["redemption"], settings=settings)
    assert redemption.returncode == 0 and "partner registered, unexpired" in redemption.stdout
