"""The scheduled entry point, `tick_if_due`: with nothing queued or in flight the relayer only
reads the outbox between full ticks; work, the idle interval or a failed tick bring a full one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.errors import ChainError

from ..support import Resident
from .conftest import Rig


def test_an_idle_relayer_skips_full_ticks_until_work_arrives(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(relayer_idle_interval=3600.0)
    assert rig.relayer.tick_if_due() is not None  # the first call is always a full tick
    assert rig.relayer.tick_if_due() is None  # nothing queued, nothing in flight
    ids = rig.accept([Resident()])
    report = rig.relayer.tick_if_due()
    assert report is not None and report.submitted == 1
    for _ in range(300):
        if rig.statuses(ids)["confirmed"] == 1:
            break
        rig.relayer.tick_if_due()  # in flight: every call is a full tick, which settles it
    assert rig.statuses(ids)["confirmed"] == 1
    assert rig.relayer.tick_if_due() is None  # settled: idle again


def test_the_idle_interval_brings_a_full_tick(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(relayer_idle_interval=1e-9)
    assert rig.relayer.tick_if_due() is not None
    assert rig.relayer.tick_if_due() is not None


def test_after_a_failed_tick_every_call_ticks_in_full(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(rpc_url="http://127.0.0.1:9", relayer_idle_interval=3600.0)
    for _ in range(3):  # an unreachable node: each call tries in full and reports the failure
        with pytest.raises(ChainError):
            rig.relayer.tick_if_due()
