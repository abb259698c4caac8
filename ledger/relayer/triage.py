"""Triage: what becomes of a batch before it is signed. Never charges a batch's failure to all.

    encode the batch ──raises, or not whole words──▶ encode each entry: those that fail, fail alone
    simulate it ──ok──▶ send it (an entry with an ActionFailed reason fails, as always)
        │ broken: reverted, refused by the node, or events that do not match its digests
        ├── the revert names a cause outside the entries (a pause, a role) ──▶ wait
        └── simulate each entry alone, in one JSON-RPC batch with a control call and the probes
              ├── the node ran not even the control, a probe finds a pause or a missing role,
              │   an entry alone names an outside cause, or every entry fails alone the same way
              │   (more than one resident) ──▶ wait: nothing fails, no attempt is counted
              ├── entries that break alone ──▶ fail each with its reason, quarantine their
              │   residents, and simulate the rest again without them (their other actions wait)
              └── none breaks alone (they break only together) ──▶ the first half is tried
                  (bisection); the rest waits for the next flush

Only RPC here, no database: the batching step applies the plan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..chain.revert import ErrorDecoder
from ..errors import ChainError
from ..models import Action
from .causes import Causes
from .isolation import Isolation
from .kinds import BatchKind
from .preflight import Broken, Conditions, Preflight, Verdict

log = logging.getLogger(__name__)

MAX_DEPTH = 8  # rounds of simulation one batch may take in one flush: halving 100 entries takes 7
STRIKES = 3  # an entry the node refuses alone (while it runs the control) this often is at fault
# Refusals that are the node's own trouble, whatever the request holds: never an entry's fault.
_NODE_TROUBLE = (
    "rate limit",
    "limit exceeded",
    "too many",
    "timeout",
    "timed out",
    "busy",
    "unavailable",
    "try again",
    "capacity",
    "internal error",
)


@dataclass
class Plan:
    batch: list[Action] = field(default_factory=list)  # what to send now (maybe nothing)
    verdict: Verdict | None = None  # its simulation
    data: bytes | None = None  # its calldata
    fail: dict[str, str] = field(default_factory=dict)  # action id → why it breaks any batch it is in
    culprits: set[str] = field(default_factory=set)  # residents to quarantine
    wait: str | None = None  # a cause outside the entries that holds the rest back


class Triage:
    def __init__(
        self,
        *,
        preflight: Preflight,
        decoder: ErrorDecoder,
        causes: Causes,
        isolation: Isolation,
    ) -> None:
        self.preflight = preflight
        self.decoder = decoder
        self.causes = causes
        self.isolation = isolation

    def plan(self, kind: BatchKind, at: Conditions, batch: list[Action]) -> Plan:
        plan = Plan()
        encodable, data = self._encodable(plan, kind, batch)
        try:
            self._plan(plan, kind, at, [a for a in encodable if a.resident not in plan.culprits], 0, data)
        except ChainError as exc:  # the node cannot be reached, or answers nonsense: everything waits
            plan.batch, plan.verdict, plan.data = [], None, None
            plan.wait = f"the node: {exc}"
        return plan

    def _encodable(
        self, plan: Plan, kind: BatchKind, batch: list[Action]
    ) -> tuple[list[Action], bytes | None]:
        """The entries that encode (and the batch's calldata, when all of them do)."""
        try:
            data = kind.encode_batch(batch)
            if _whole_words(data):
                return batch, data
        except Exception:
            pass
        ok = []
        for a in batch:
            try:
                single = kind.encode_batch([a])
            except Exception as exc:  # bytes.fromhex, eth_abi's range checks, a missing field …
                self._blame(
                    plan, a, f"cannot be encoded for the contract: {exc.__class__.__name__}: {exc}"[:400]
                )
                continue
            if not _whole_words(single):
                self._blame(plan, a, "its encoding is not whole ABI words: a field has the wrong size")
                continue
            ok.append(a)
        return ok, None

    def _plan(
        self,
        plan: Plan,
        kind: BatchKind,
        at: Conditions,
        batch: list[Action],
        depth: int,
        data: bytes | None = None,
    ) -> None:
        if not batch:
            return
        if data is None:
            try:
                data = kind.encode_batch(batch)
            except Exception:  # each entry encodes alone; together they do not: send one at a time
                self._plan(plan, kind, at, batch[:1], depth + 1)
                return
        verdict = self.preflight.run(kind=kind, at=at, actions=batch, data=data)
        if verdict.broken is None:
            plan.batch, plan.verdict, plan.data = batch, verdict, data
            return
        if (outside := self.causes.outside(verdict.broken.data)) is not None:
            plan.wait = outside
            return
        entries = [(a, data if len(batch) == 1 else kind.encode_batch([a])) for a in batch]
        ran, alone, probed = self.preflight.each(
            kind=kind, at=at, entries=entries, extra=self.causes.probes(target=at.to, sender=at.sender)
        )
        if (outside := self.causes.probed(probed, target=at.to, sender=at.sender)) is not None:
            plan.wait = outside
            return
        if not ran:
            plan.wait = f"the node refuses to simulate anything: {verdict.broken.why}"
            return
        breaks: dict[str, tuple[Action, Broken]] = {}
        for action, v in zip(batch, alone, strict=True):
            if v.broken is None:
                continue
            if (outside := self.causes.outside(v.broken.data)) is not None:
                plan.wait = outside
                return
            if v.broken.refused and any(p in v.broken.why.lower() for p in _NODE_TROUBLE):
                plan.wait = f"the node: {v.broken.why}"
                return
            breaks[action.id] = (action, v.broken)
        residents = {a.resident for a in batch}
        if (
            len(breaks) == len(batch)
            and len(residents) > 1
            and len({self._why(b) for _, b in breaks.values()}) == 1
        ):
            # Every entry fails alone, the same way, whoever signed it: a cause outside them that the
            # probes do not know (an upgrade, a new pause). They wait; their deadlines still hold.
            plan.wait = f"every entry of the batch fails alone: {self._why(next(iter(breaks.values()))[1])}"
            return
        for action, broken in breaks.values():
            if broken.refused and self.isolation.strike(action.id) < STRIKES:
                # A refusal may be the node's passing trouble: the entry goes alone from now on, and
                # is failed only once the node has refused it alone again and again.
                plan.culprits.add(action.resident)
            else:
                self._blame(plan, action, self._why(broken))
        rest = [a for a in batch if a.id not in breaks and a.resident not in plan.culprits]
        if depth + 1 >= MAX_DEPTH or not rest:
            return
        if not breaks:
            # Each entry goes through alone, the batch does not: they break only together (gas, an
            # interaction between entries), or the node failed once. Try the first half.
            if len(rest) == 1 or all(self.isolation.alone(a) for a in rest):
                plan.wait = f"a batch that goes through alone fails: {verdict.broken.why}"
                return
            rest = rest[: (len(rest) + 1) // 2]
        self._plan(plan, kind, at, rest, depth + 1)

    def _blame(self, plan: Plan, action: Action, why: str) -> None:
        plan.fail[action.id] = why
        plan.culprits.add(action.resident)

    def _why(self, broken: Broken) -> str:
        if broken.foreign:
            return (
                "its encoding is not the action its resident signed: the contract computes digest "
                f"{broken.foreign[0]} for it"
            )
        if broken.refused:
            return f"the node refuses any batch that holds it: {broken.why}"
        if broken.data:
            return f"makes its batch revert: {self.decoder.text(broken.data)}"
        return f"makes its batch fail: {broken.why}"


def _whole_words(data: bytes) -> bool:
    """A batch call is a 4-byte selector and 32-byte words: a field of the wrong size shifts the rest."""
    return len(data) >= 4 and (len(data) - 4) % 32 == 0
