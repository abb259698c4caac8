"""Group commit of accepted actions (ledger/committer.py): every accepted action is stored once and
answered only after its commit; a stream shares transactions; a lone client is not held back."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine, event, text

from ledger.committer import AcceptQueue
from ledger.db import make_engine
from ledger.kinds import VerifiedAction
from ledger.outbox import Accepted, ResidentLimits
from ledger.types import Address
from migrations import migrate


def action(i: int) -> VerifiedAction:
    resident = Address(f"0x{i % 7 + 1:040x}")
    return VerifiedAction(
        id=f"0x{i:064x}",
        kind="plogging",
        contract=Address("0x" + "11" * 20),
        resident=resident,
        nonce=i,
        deadline=2**40,
        message={"resident": resident, "nonce": i},
        signature="0x" + "22" * 65,
    )


def counted(tmp_path: Path) -> tuple[Engine, list[int]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    commits: list[int] = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    return engine, commits


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM action")).scalar_one())


def test_a_client_sending_one_at_a_time_is_committed_at_once(tmp_path: Path) -> None:
    engine, commits = counted(tmp_path)
    queue = AcceptQueue(engine, limits=None, delay=30.0)  # a wait would show as a 30 s test
    try:
        for i in range(5):
            assert queue.accept([action(i)], timeout=10) == [Accepted(f"0x{i:064x}", "queued")]
    finally:
        queue.close()
    assert len(commits) == 5 and stored(engine) == 5


def test_a_stream_of_requests_shares_transactions_and_each_is_stored_once(tmp_path: Path) -> None:
    engine, commits = counted(tmp_path)
    queue = AcceptQueue(engine, limits=ResidentLimits(per_minute=0, per_day=1000), delay=0.2)
    start = threading.Barrier(40)
    answers: dict[int, list[object]] = {}

    def client(i: int) -> None:
        start.wait()
        # Every action twice: the repeat is answered as stored, never stored again.
        answers[i] = queue.accept([action(i)], timeout=30) + queue.accept([action(i)], timeout=30)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    queue.close()
    assert {i: [a.id for a in answers[i]] for i in answers} == {  # type: ignore[attr-defined]
        i: [f"0x{i:064x}"] * 2 for i in range(40)
    }
    assert stored(engine) == 40
    assert len(commits) < 40  # 80 requests: without group commit, 80 transactions
