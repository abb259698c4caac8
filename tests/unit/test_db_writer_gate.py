"""The SQLite writer gate: writers of several processes queue on an flock beside the database, and a
thread that would wait for itself gets an error instead of hanging."""

from __future__ import annotations

import fcntl
import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from ledger.db import make_engine


def _writer(url: str, name: str, count: int) -> None:
    engine = make_engine(url)
    for i in range(count):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log (writer, n) VALUES (:w, :n)"), {"w": name, "n": i})
    engine.dispose()


def _holder(url: str, hold: float) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO log (writer, n) VALUES ('holder', 0)"))
        time.sleep(hold)
    engine.dispose()


def _engine(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (id INTEGER PRIMARY KEY, writer TEXT, n INTEGER)"))
    return url, engine


def test_writers_in_several_processes_all_commit(tmp_path: Path) -> None:
    url, engine = _engine(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, f"p{i}", 300)) for i in range(3)]
    for p in procs:
        p.start()
    _writer(url, "main", 300)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with engine.connect() as conn:
        counts: dict[str, int] = {
            w: n for w, n in conn.execute(text("SELECT writer, count(*) FROM log GROUP BY writer"))
        }
    assert counts == {"main": 300, "p0": 300, "p1": 300, "p2": 300}
    assert (tmp_path / "gate.db.writer-lock").exists()


def test_a_writer_waits_for_another_process_then_commits(tmp_path: Path) -> None:
    url, engine = _engine(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    holder = ctx.Process(target=_holder, args=(url, 1.5))
    holder.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the holder is inside its transaction
        try:
            with open(tmp_path / "gate.db.writer-lock", "rb") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fh, fcntl.LOCK_UN)
            time.sleep(0.02)
        except BlockingIOError:
            break
    else:
        pytest.fail("the holder never took the gate")
    _writer(url, "main", 1)  # waits on the flock, then commits
    holder.join(30)
    assert holder.exitcode == 0
    with engine.connect() as conn:
        order = [w for (w,) in conn.execute(text("SELECT writer FROM log ORDER BY id")).all()]
    assert order == ["holder", "main"]


def test_a_thread_waiting_for_its_own_transaction_gets_an_error_not_a_hang(tmp_path: Path) -> None:
    url, _ = _engine(tmp_path)
    first, second = make_engine(url, write_timeout=0.5), make_engine(url, write_timeout=0.5)
    with first.begin() as conn:
        conn.execute(text("INSERT INTO log (writer, n) VALUES ('first', 0)"))
        with pytest.raises(sqlite3.OperationalError, match="database is locked"), second.begin():
            pass
    with second.begin() as conn:  # once the first is done, the second writes as usual
        conn.execute(text("INSERT INTO log (writer, n) VALUES ('second', 0)"))
    with second.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log")).scalar() == 2


def test_a_transaction_begun_in_one_thread_may_end_in_another(tmp_path: Path) -> None:
    """FastAPI may run a request session's clean-up in another thread than the endpoint."""
    _, engine = _engine(tmp_path)
    session = Session(engine)
    session.execute(text("INSERT INTO log (writer, n) VALUES ('endpoint', 0)"))  # begins here
    closer = threading.Thread(target=session.close)  # rolls back, elsewhere
    closer.start()
    closer.join(10)
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log (writer, n) VALUES ('next', 0)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(10), "the turn was not given back"
    with engine.connect() as conn:
        assert [w for (w,) in conn.execute(text("SELECT writer FROM log"))] == ["next"]
