"""Gas is deterministic, so its targets are guarded here (timings never are): the full `bench gas` run."""

from __future__ import annotations

from bench.gas import run_gas_bench


def test_gas_targets_hold_against_eas() -> None:
    figures = run_gas_bench()
    assert figures["plogging_gas_per_action"] <= 30_000
    assert figures["ratio_plogging_vs_eas"] <= 0.15
    assert figures["plogging_gas_per_action_new_residents"] > figures["plogging_gas_per_action"]
    assert figures["max_tx_gas"] < figures["tx_gas_cap"]
    for key in (
        "feedback_gas_per_action",
        "support_gas_per_action",
        "redemption_gas_per_action",
        "eas_gas_per_attestation",
    ):
        assert figures[key] > 0, key
