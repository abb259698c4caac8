"""The SQLite writer gate: writers of several processes queue on an flock beside the database, and a
thread that would wait for itself gets an error instead of hanging."""

from __future__ import annotations

import fcntl
import multiprocessing
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

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


def test_a_second_engine_writing_from_the_same_thread_is_refused_not_hung(tmp_path: Path) -> None:
    url, first = _engine(tmp_path)
    second = make_engine(url)
    with first.begin() as conn:
        conn.execute(text("INSERT INTO log (writer, n) VALUES ('first', 0)"))
        with pytest.raises(RuntimeError, match="wait for itself"), second.begin():
            pass
    with second.begin() as conn:  # once the first is done, the second writes as usual
        conn.execute(text("INSERT INTO log (writer, n) VALUES ('second', 0)"))
    with second.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log")).scalar() == 2
