"""Golden decode: recorded eth_getLogs JSON in, the rows web3's ABI decoder produced out."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from indexer.decode import PLOGGING_RECORDED, decode_logs
from indexer.errors import DecodeError

GOLDEN = json.loads((Path(__file__).resolve().parent.parent / "golden" / "logs.json").read_text())


def test_recorded_logs_decode_to_the_recorded_rows() -> None:
    rows = decode_logs(GOLDEN["eth_getLogs"], GOLDEN["chainId"])
    assert rows == GOLDEN["rows"]
    assert all(GOLDEN["rows"][t] for t in ("plogging_session", "token_transfer", "action_failure"))


def test_a_truncated_known_event_is_a_decode_error_not_a_silent_skip() -> None:
    logs = copy.deepcopy(GOLDEN["eth_getLogs"])
    broken = next(entry for entry in logs if entry["topics"][0] == PLOGGING_RECORDED)
    broken["data"] = broken["data"][:-64]
    with pytest.raises(DecodeError, match="9 data words"):
        decode_logs(logs, GOLDEN["chainId"])


def test_removed_logs_are_skipped() -> None:
    logs = copy.deepcopy(GOLDEN["eth_getLogs"])
    for entry in logs:
        entry["removed"] = True
    assert decode_logs(logs, GOLDEN["chainId"]) == {
        "plogging_session": [],
        "token_transfer": [],
        "action_failure": [],
    }
