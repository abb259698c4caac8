"""Isolation: which actions must not share a transaction with other residents' actions.

- **Quarantined residents.** One of their actions broke a batch: it could not be encoded, it made
  the batch revert or the node refuse it, or it was encoded otherwise than it was signed. For
  `QUARANTINE_SECONDS` after their latest offence each of their actions is sent alone, one per
  transaction, so whatever they send next costs nobody else anything.
- **Smart-account residents** (code at their address, or a signature that is not 65 bytes). The
  contract asks their wallet through ERC-1271 with up to `ERC1271_GAS_LIMIT` gas, and a wallet can
  answer otherwise on chain than in the simulation (by `tx.gasprice`, a flag flipped in between).
  Their actions go alone, and their transaction's gas limit carries that gas as a stipend.
- **Suspects.** The actions of a transaction that reverted on chain, or that the node refused for
  its size, with no cause outside them found. The transaction is bisected: its actions go in
  transactions of at most half its size, and so on, until a transaction that fails holds one
  action, which alone is then at fault.

The state is in memory. After a restart a hostile resident costs one more failed simulation (never
an honest action's attempt) before they are quarantined again.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable

from ..models import Action

log = logging.getLogger(__name__)

QUARANTINE_SECONDS = 3600.0
CODE_RECHECK_SECONDS = 600.0  # a resident without code may deploy a smart account later
ERC1271_GAS_LIMIT = 75_000  # SignedActions.ERC1271_GAS_LIMIT
# What a wallet may burn on chain beyond what it burnt in the simulation: the whole ERC-1271
# allowance, plus the 1/64 the caller must keep back to forward it (EIP-150), plus a cold access.
ERC1271_STIPEND = ERC1271_GAS_LIMIT * 64 // 63 + 2_600
_ECDSA_SIGNATURE_CHARS = 2 + 2 * 65
_MAX_ENTRIES = 500_000  # bounds each in-memory table


class Isolation:
    def __init__(self) -> None:
        self._quarantined: dict[str, float] = {}  # resident (as the outbox spells it) → until (unix time)
        self._code: dict[str, tuple[bool, float]] = {}  # resident (lower case) → (has code, checked at)
        self._group_of: dict[str, int] = {}  # suspect action id → its group
        self._cap: dict[int, int] = {}  # group → the most of its actions one transaction may carry
        self._next_group = 0
        self._strikes: dict[str, int] = {}  # action id → how often the node refused it alone

    # -- quarantine -------------------------------------------------------------------------------

    def quarantine(self, residents: Iterable[str], why: str) -> None:
        now = time.time()
        for resident in residents:
            if not self.quarantined(resident):
                log.warning("resident %s is quarantined (their actions go alone): %s", resident, why)
            self._quarantined[resident] = now + QUARANTINE_SECONDS
        if len(self._quarantined) > _MAX_ENTRIES:
            self._quarantined = {r: t for r, t in self._quarantined.items() if t > now}

    def quarantined(self, resident: str) -> bool:
        return self._quarantined.get(resident, 0.0) > time.time()

    def quarantined_residents(self) -> list[str]:
        now = time.time()
        return [r for r, until in self._quarantined.items() if until > now]

    # -- smart accounts ---------------------------------------------------------------------------

    def unknown_code(self, residents: Iterable[str]) -> list[str]:
        """The residents whose code must be looked up (never seen, or seen without code a while ago)."""
        now = time.time()
        out = []
        for resident in {r.lower() for r in residents}:
            known = self._code.get(resident)
            if known is None or (not known[0] and now - known[1] > CODE_RECHECK_SECONDS):
                out.append(resident)
        return out

    def learn_code(self, resident: str, code: object) -> None:
        if len(self._code) > _MAX_ENTRIES:
            self._code = {r: v for r, v in self._code.items() if v[0]}
        self._code[resident.lower()] = (isinstance(code, str) and code not in ("0x", "0x0", ""), time.time())

    def smart(self, action: Action) -> bool:
        """Whether the contract may call the resident's wallet (ERC-1271) for this action."""
        known = self._code.get(action.resident.lower())
        return len(action.signature) != _ECDSA_SIGNATURE_CHARS or (known is not None and known[0])

    def alone(self, action: Action) -> bool:
        return self.quarantined(action.resident) or self.smart(action)

    # -- suspects (on-chain bisection) ------------------------------------------------------------

    def bisect(self, ids: list[str]) -> None:
        """These actions shared a transaction that failed with no outside cause: from now on they
        go in transactions of at most half as many."""
        if len(self._group_of) > _MAX_ENTRIES:
            self._group_of.clear()
            self._cap.clear()
        self._next_group += 1
        self._cap[self._next_group] = max(1, (len(ids) + 1) // 2)
        for i in ids:
            self._group_of[i] = self._next_group

    def clear(self, ids: Iterable[str]) -> None:
        """These actions are settled (or failed): no longer suspects."""
        for i in ids:
            self._group_of.pop(i, None)
            self._strikes.pop(i, None)

    def suspect(self, action_id: str) -> bool:
        return action_id in self._group_of

    def strike(self, action_id: str) -> int:
        """Counts one more refusal of this action alone; returns how many there were."""
        if len(self._strikes) > _MAX_ENTRIES:
            self._strikes.clear()
        self._strikes[action_id] = self._strikes.get(action_id, 0) + 1
        return self._strikes[action_id]

    # -- arranging a lane -------------------------------------------------------------------------

    def arrange(self, actions: list[Action]) -> tuple[list[Action], list[list[Action]]]:
        """A lane's queued actions, oldest first → (those that may share a batch, batches of their
        own): each resident that goes alone sends its lowest nonce; each suspect group one chunk."""
        shared: list[Action] = []
        solo: dict[str, Action] = {}
        groups: dict[int, list[Action]] = defaultdict(list)
        for a in actions:
            if self.alone(a):
                current = solo.get(a.resident)
                if current is None or a.nonce < current.nonce:
                    solo[a.resident] = a
            elif (group := self._group_of.get(a.id)) is not None:
                groups[group].append(a)
            else:
                shared.append(a)
        batches = [[a] for a in solo.values()]
        for group, members in groups.items():
            members.sort(key=lambda a: (a.resident, a.nonce))
            batches.append(members[: self._cap.get(group, 1)])
        return shared, batches
