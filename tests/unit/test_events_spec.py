"""indexer/events.py against the compiled ABIs: every event of every contract has a table and the
same parameter types, in the same order."""

from __future__ import annotations

from typing import Any

from ledger.chain.events import EVENTS, topic
from ledger.compile import compile_contracts

CONTRACTS = (
    "ParticipationToken",
    "PloggingRegistry",
    "FeedbackBox",
    "CommunityRewards",
    "ActionBatcher",
    "EnrolmentRegistry",
)
IGNORED = {"EIP712DomainChanged"}  # ERC-5267: the domains are immutable, so it is never emitted


def _types(inputs: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for i in inputs:
        out += _types(i["components"]) if i["type"] == "tuple" else [i["type"]]
    return out


def _canonical(i: dict[str, Any]) -> str:
    if i["type"] == "tuple":
        return "(" + ",".join(_canonical(c) for c in i["components"]) + ")"
    return str(i["type"])


def test_every_abi_event_has_a_matching_spec() -> None:
    artifacts = compile_contracts()
    by_signature = {e.signature: e for e in EVENTS}
    for name in CONTRACTS:
        for item in artifacts[name].abi:
            if item["type"] != "event" or item["name"] in IGNORED:
                continue
            signature = f"{item['name']}({','.join(_canonical(i) for i in item['inputs'])})"
            assert signature in by_signature, f"{name}.{item['name']} has no EventSpec"
            spec = by_signature[signature]
            assert spec.topic0 == topic(signature)
            assert [f.type for f in spec.fields] == _types(item["inputs"]), signature
            flat_indexed = [i["indexed"] for i in item["inputs"] for _ in _types([i])]
            assert [f.indexed for f in spec.fields] == flat_indexed, signature
