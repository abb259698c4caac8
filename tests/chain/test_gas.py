"""Gas is deterministic, so its targets are guarded here (timings never are): the full `bench gas` run."""

from __future__ import annotations

from typing import Any

import pytest

from bench.gas import MIX, run_gas_bench


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return run_gas_bench()


def test_gas_targets_hold_against_eas(figures: dict[str, Any]) -> None:
    assert figures["plogging_gas_per_action"] <= 30_000
    assert figures["ratio_plogging_vs_eas"] <= 0.15
    assert figures["plogging_gas_per_action_new_residents"] > figures["plogging_gas_per_action"]
    assert figures["max_tx_gas"] < figures["tx_gas_cap"]
    for key in (
        "feedback_gas_per_action",
        "support_gas_per_action",
        "redemption_gas_per_action",
        "donation_gas_per_action",
        "claim_gas_per_action",
        "eas_gas_per_attestation",
    ):
        assert figures[key] > 0, key


def test_claims_carry_proofs_from_a_neighbourhood_sized_tree(figures: dict[str, Any]) -> None:
    # 2,900 leaves: every proof has 11 or 12 hashes, and every claim was paid (the bench checks
    # that no ActionFailed was logged)
    assert figures["claim_tree_leaves"] == 2_900
    assert figures["claim_proof_hashes"] == 12


def test_a_mixed_batch_costs_less_than_the_same_actions_sent_per_kind(figures: dict[str, Any]) -> None:
    """One ActionBatcher call pays the 21,000 base once instead of once per kind, and its routing
    costs less than that; if it ever stops doing so, per-kind batches are the better choice."""
    assert figures["mixed_actions"] == MIX
    assert 0 < figures["mixed_gas_per_action"] < figures["mixed_separate_gas_per_action"]
