"""Database engines and sessions, for SQLite (default) and PostgreSQL (`ESG_DATABASE_URL`).

SQLite runs in WAL mode and every transaction starts with BEGIN IMMEDIATE, so two writers never
deadlock on a lock upgrade; PostgreSQL uses row locks where the relayer allocates nonces.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine


def make_engine(url: str, *, synchronous: str = "FULL", write_timeout: float = 60.0) -> Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver stays out of the way; we say BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        # 64 MB page cache (default 2 MB): the mirror's random-key indexes (digests) stay in memory
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    writer = WriterGate.for_path(_lock_path(parsed.database))

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("sqlite_deferred", False):
            conn.exec_driver_sql("BEGIN")
            return
        writer.acquire(write_timeout)
        conn.info["holds_writer"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn)
            raise

    def _release(conn: Any) -> None:
        if conn.info.pop("holds_writer", False):
            writer.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)

    return engine


def _lock_path(database: str | None) -> Path | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + ".writer-lock")


class WriterGate:
    """Lets one SQLite writer at a time through, across threads and processes.

    SQLite's own busy handler sleeps with back-off (up to 100 ms a try) while another connection
    writes, and wakes waiters in no order: under a steady stream of accept commits a relayer
    transaction could wait seconds, and with several processes (API workers beside the jobs) the
    writers spent their time asleep. Writers therefore queue here first and take SQLite's lock only
    when it is their turn: threads of this process on a lock, processes on an flock of a file beside
    the database (the kernel wakes a waiter as soon as the holder lets go). Anything that writes
    without the gate (the sqlite3 shell, say) still meets busy_timeout, as before.

    The turn belongs to a transaction, not to a thread: a request's session may begin in one thread
    and end in another (FastAPI runs a dependency's clean-up where it likes), so any thread may
    release it. Every engine of a process on one database file shares one gate (`for_path`), so a
    thread that waits for its own open transaction (a nested write on a second connection) gets
    "database is locked" after the timeout, as SQLite's busy_timeout did, instead of a hang.
    """

    @classmethod
    def for_path(cls, path: Path | None) -> WriterGate:
        if path is None:
            return cls(None)
        key = str(path.resolve())
        with _GATES_LOCK:
            gate = _GATES.get(key)
            if gate is None:
                gate = _GATES[key] = cls(path)
            return gate

    def __init__(self, path: Path | None) -> None:
        self._turn = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600) if path else None
        if self._fd is not None:
            weakref.finalize(self, os.close, self._fd)

    def acquire(self, timeout: float = 60.0) -> None:
        if not self._turn.acquire(timeout=timeout):
            raise sqlite3.OperationalError(
                f"database is locked: no write turn within {timeout:g}s "
                "(another transaction of this process kept it)"
            )
        if self._fd is not None:
            try:
                # Only the one thread holding the turn waits here, without the GIL. No timeout is
                # needed: a gated writer never waits for anything else while it holds the flock.
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._turn.release()
                raise

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._turn.release()


_GATES: weakref.WeakValueDictionary[str, WriterGate] = weakref.WeakValueDictionary()
_GATES_LOCK = threading.Lock()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A read-only session. On SQLite its transaction is deferred: in WAL mode a reader never waits
    for the writer's lock, so status reads and the relayer's scans do not queue behind commits."""
    with Session(engine.execution_options(sqlite_deferred=True), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.expunge_all()  # what was read stays readable after the transaction ends
            session.rollback()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
