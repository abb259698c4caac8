"""A resident's sessions are recorded in the order they happened, so while one of a resident's
sessions is in flight the relayer sends no later one: were the first to come back to the queue, the
later one mined meanwhile would make it unrecordable (PloggingRegistrySessionOverlaps)."""

from __future__ import annotations

from collections.abc import Callable

from tests.support import Resident

from .conftest import Rig


def test_a_later_session_waits_while_an_earlier_one_is_in_flight(
    make_rig: Callable[..., Rig], manual_mining: None
) -> None:
    rig = make_rig()
    resident, other = Resident(), Resident()
    [first] = rig.accept([resident])
    rig.relayer.tick()
    assert rig.statuses([first])["submitted"] == 1  # in the node's pool, not mined

    second, other_id = rig.accept([resident, other])
    rig.relayer.tick()
    assert rig.statuses([second])["queued"] == 1  # held back behind its resident's first session
    assert rig.statuses([other_id])["submitted"] == 1  # other residents are not held back

    rig.run_until(rig.all_final([first, second, other_id]), mine=True)
    assert rig.statuses([first, second, other_id])["confirmed"] == 3
    order = rig.rows(
        "SELECT id FROM action WHERE id IN (:a, :b) ORDER BY block_number, log_index", a=first, b=second
    )
    assert [r[0] for r in order] == [first, second]
