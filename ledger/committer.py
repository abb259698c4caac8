"""Group commit for accepted actions: many requests, one durable transaction, one fsync.

Each API request verifies its action, hands it to `AcceptQueue.accept`, and waits; one thread
takes everything waiting, stores it with `accept_actions` in one transaction, commits, and then
wakes each request with its own result. Nothing is answered before it is committed, so "durable
before 202" holds exactly as with one transaction per request; under load, one commit (and its
fsync, the cost that bounds SQLite at a few hundred commits per second) serves hundreds of
requests.

Arrivals are spread out, though: at a few hundred requests a second a committer that commits as soon
as anything waits pays for a transaction and an fsync (~1 ms of CPU on a small server) nearly per
request. So while requests come as a stream, the committer lets the first of a batch wait up to `delay`
seconds for others to join (PostgreSQL's `commit_delay` idea): milliseconds on a 202 that a block time
follows anyway, for a fraction of the commits. It is a stream when a commit finds more than one
request waiting; it stops being one when a wait brought nobody else, so one client sending one
request at a time (each waits for its 202) is committed at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import Engine

from .db import session_scope
from .errors import RateLimitedError
from .kinds import VerifiedAction
from .outbox import Accepted, ResidentLimits, accept_actions

log = logging.getLogger(__name__)

Outcome = Accepted | RateLimitedError


@dataclass
class _Request:
    actions: list[VerifiedAction]
    done: Future[list[Outcome]] = field(default_factory=Future)
    arrived: float = field(default_factory=time.monotonic)


class AcceptQueue:
    def __init__(
        self, engine: Engine, *, limits: ResidentLimits | None, max_batch: int = 2000, delay: float = 0.0
    ) -> None:
        self.engine = engine
        self.limits = limits
        self.max_batch = max_batch
        self.delay = delay
        self._waiting: deque[_Request] = deque()
        self._count = 0  # actions waiting
        self._stream = False
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="accept-commit", daemon=True)
        self._thread.start()

    def accept(self, actions: list[VerifiedAction], timeout: float = 60.0) -> list[Outcome]:
        """Stores `actions` durably; returns each stored action (or why it was refused), in order."""
        request = _Request(actions)
        self._enqueue(request)
        return request.done.result(timeout=timeout)

    async def accept_async(self, actions: list[VerifiedAction]) -> list[Outcome]:
        """`accept` for the event loop: waits without holding a thread."""
        request = _Request(actions)
        self._enqueue(request)
        return await asyncio.wrap_future(request.done)

    def _enqueue(self, request: _Request) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the accept queue is closed")
            self._waiting.append(request)
            self._count += len(request.actions)
            if len(self._waiting) == 1 or self._count >= self.max_batch:
                self._cond.notify()  # the committer waits for a first request, then for a full batch

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=30)

    def _take(self) -> list[_Request] | None:
        with self._cond:
            while not self._waiting and not self._closed:
                self._cond.wait()
            if not self._waiting:
                return None
            waited = self._stream and self.delay > 0
            if waited:  # let the stream fill the transaction
                due = self._waiting[0].arrived + self.delay
                while (
                    not self._closed and self._count < self.max_batch and (left := due - time.monotonic()) > 0
                ):
                    self._cond.wait(left)
            taken: list[_Request] = []
            count = 0
            while self._waiting and (not taken or count + len(self._waiting[0].actions) <= self.max_batch):
                request = self._waiting.popleft()
                taken.append(request)
                count += len(request.actions)
            self._count -= count
            if len(taken) > 1:
                self._stream = True  # others came while we waited or committed
            elif waited:
                self._stream = False  # waited for nobody: commit at once until a stream shows again
            return taken

    def _run(self) -> None:
        while (taken := self._take()) is not None:
            try:
                with session_scope(self.engine) as s:
                    results = accept_actions(
                        session=s, actions=[a for r in taken for a in r.actions], limits=self.limits
                    )
            except Exception as exc:  # every waiting request learns of it; clients retry
                log.exception("storing %d accepted actions failed", sum(len(r.actions) for r in taken))
                for r in taken:
                    r.done.set_exception(exc)
                continue
            start = 0
            for r in taken:
                r.done.set_result(results[start : start + len(r.actions)])
                start += len(r.actions)
