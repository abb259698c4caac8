"""Golden decode: recorded eth_getLogs JSON (every contract event) in, the rows web3's ABI decoder
produced out. Regenerate with `.venv/bin/python -m tests.golden.record` when an event changes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode

from ledger.chain.decode import PLOGGING_RECORDED, TABLES, decode_logs, raw_rows, raw_to_log
from ledger.chain.events import EVENTS, EVENTS_BY_TOPIC, topic
from ledger.errors import DecodeError

GOLDEN = json.loads((Path(__file__).resolve().parent.parent / "golden" / "logs.json").read_text())
NEVER_EMITTED = {"RoleAdminChanged"}  # no contract exposes _setRoleAdmin: tested on an encoded log below


def _log(topics: list[str], data: bytes, **position: Any) -> dict[str, Any]:
    return {
        "address": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
        "topics": topics,
        "data": "0x" + data.hex(),
        "blockNumber": "0x10",
        "blockHash": "0x" + "ab" * 32,
        "logIndex": "0x3",
        "transactionHash": "0x" + "cd" * 32,
        "transactionIndex": "0x0",
        **position,
    }


def test_recorded_logs_decode_to_the_recorded_rows() -> None:
    rows = decode_logs(GOLDEN["eth_getLogs"], GOLDEN["chainId"])
    assert set(rows) == set(TABLES)
    for table in TABLES:
        assert rows[table] == GOLDEN["rows"][table], table


def test_the_recording_covers_every_event() -> None:
    seen = {EVENTS_BY_TOPIC[entry["topics"][0]].name for entry in GOLDEN["eth_getLogs"]}
    assert {e.name for e in EVENTS} - seen == NEVER_EMITTED
    assert all(GOLDEN["rows"][t] for t in TABLES if t != "role_admin_change")


def test_raw_logs_round_trip() -> None:
    logs = GOLDEN["eth_getLogs"]
    back = [raw_to_log(r) for r in raw_rows(logs, GOLDEN["chainId"])]
    assert decode_logs(back, GOLDEN["chainId"]) == decode_logs(logs, GOLDEN["chainId"])


def test_role_admin_changed_from_an_encoded_log() -> None:
    roles = ["0x" + bytes([i]).hex() * 32 for i in (1, 2, 3)]
    log = _log([topic("RoleAdminChanged(bytes32,bytes32,bytes32)"), *roles], b"")
    row = decode_logs([log], 31337)["role_admin_change"][0]
    assert (row["role"], row["previous_admin_role"], row["new_admin_role"]) == tuple(roles)
    assert decode_logs([log], 31337)["admin_action"][0]["action"] == "RoleAdminChanged"


def test_a_truncated_known_event_is_a_decode_error_not_a_silent_skip() -> None:
    logs = copy.deepcopy(GOLDEN["eth_getLogs"])
    broken = next(entry for entry in logs if entry["topics"][0] == PLOGGING_RECORDED)
    broken["data"] = broken["data"][:-64]
    with pytest.raises(DecodeError, match="9 data words"):
        decode_logs(logs, GOLDEN["chainId"])


def test_an_amount_beyond_64_bits_is_refused_not_truncated() -> None:
    transfer = topic("Transfer(address,address,uint256)")
    holder = "0x" + "00" * 12 + "11" * 20
    log = _log([transfer, "0x" + "00" * 32, holder], encode(["uint256"], [2**63]))
    with pytest.raises(DecodeError, match="does not fit a 64-bit SQL integer"):
        decode_logs([log], 31337)
    log = _log([transfer, "0x" + "00" * 32, holder], encode(["uint256"], [2**63 - 1]))
    assert decode_logs([log], 31337)["token_transfer"][0]["value"] == 2**63 - 1


def test_full_range_fields_keep_their_value() -> None:
    thresholds = topic("PloggingThresholdsUpdated(address,(uint32,uint32,uint64))")
    log = _log(
        [thresholds, "0x" + "00" * 12 + "22" * 20], encode(["uint32", "uint32", "uint64"], [1, 2, 2**64 - 1])
    )
    assert decode_logs([log], 31337)["plogging_thresholds_update"][0]["max_reward"] == 2**64 - 1


def test_a_dirty_address_word_is_refused() -> None:
    transfer = topic("Transfer(address,address,uint256)")
    log = _log([transfer, "0x" + "ff" * 32, "0x" + "00" * 12 + "11" * 20], encode(["uint256"], [1]))
    with pytest.raises(DecodeError, match="not a left-padded address"):
        decode_logs([log], 31337)


def test_removed_and_unknown_logs_are_skipped() -> None:
    logs = copy.deepcopy(GOLDEN["eth_getLogs"])
    for entry in logs:
        entry["removed"] = True
    assert not any(decode_logs(logs, GOLDEN["chainId"]).values())
    unknown = _log([topic("Something(uint256)")], encode(["uint256"], [1]))
    assert not any(decode_logs([unknown], 31337).values())
    assert len(raw_rows([unknown], 31337)) == 1  # kept raw: a later handler can pick it up
