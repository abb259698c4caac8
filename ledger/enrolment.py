"""Enrolment: who counts as a resident. Recorded on chain (`EnrolmentRegistry`), enforced here.

    request_enrolment   an enrolling party's own key (a platform's enroller key, a custodial desk
                        member) signs `EnrolmentRegistry.enrol` as an ERC-2771 ForwardRequest; it goes
                        to the outbox through the staff action machinery (`ledger.staff_actions`)
    is_enrolled         the mirror's record (indexer table `enrolment`), or an enrolment request in
                        the outbox that is queued, in flight, or confirmed but not mirrored yet
    EnrolmentGate       the policy (ESG_ENROLMENT_POLICY `open` | `enrolled`) applied by `prepare` and
                        by submit (`ledger.intake`), before any nonce, outbox row or gas; positive
                        answers are cached in process for `ttl` seconds (the submit hot path)

Party codes are short ASCII names (`desk:suwon-city-hall`, `platform:zepeto`) stored as a
right-padded bytes32, so the chain itself shows who vouched. Why the contracts do not check
enrolment, with the gas figures: docs/contracts.md, "Enrolment".
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, Engine, text

from .db import read_scope, session_scope
from .enrolment_requests import pending_enrolment
from .errors import InvalidActionError, NotEnrolledError
from .kinds import ChainCalls
from .staff_actions import accept_call, prepare_call, verify_call
from .types import checksum

__all__ = [
    "CONTRACT",
    "PARTY_PATTERN",
    "EnrolmentGate",
    "EnrolmentRequested",
    "Policy",
    "is_enrolled",
    "party_code",
    "party_name",
    "request_enrolment",
]

CONTRACT = "EnrolmentRegistry"  # the deployment's contract name
Policy = Literal["open", "enrolled"]
PARTY_PATTERN = r"^[a-z0-9][a-z0-9:._-]{0,31}$"
_PARTY = re.compile(PARTY_PATTERN)
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")


def party_code(name: str) -> str:
    """`desk:suwon` → its bytes32 (ASCII, zero-padded on the right) as 0x-hex; InvalidActionError if not."""
    if not isinstance(name, str) or not _PARTY.match(name):
        raise InvalidActionError(
            "expected 1 to 32 lower-case letters, digits or ':._-', starting with a letter or digit",
            field="party",
        )
    return "0x" + name.encode("ascii").ljust(32, b"\0").hex()


def party_name(code: str) -> str:
    """The party code as text (a bytes32 that is not one of ours: its 0x-hex)."""
    raw = bytes.fromhex(code.removeprefix("0x")).rstrip(b"\0")
    try:
        name = raw.decode("ascii")
    except UnicodeDecodeError:
        return code
    return name if _PARTY.match(name) else code


_MIRROR = text(
    "SELECT enrolled, updated_block FROM enrolment WHERE chain_id = :chain AND resident = :resident"
)


def is_enrolled(conn: Connection, *, chain_id: int, resident: str) -> bool:
    """Enrolled per the mirror, or by a request in the outbox that has not failed (two indexed reads)."""
    who = checksum(resident)
    row = conn.execute(_MIRROR, {"chain": chain_id, "resident": who}).first()
    if row is not None and bool(row[0]):
        return True
    return pending_enrolment(conn, who, mirrored_block=None if row is None else int(row[1]))


class EnrolmentGate:
    """ESG_ENROLMENT_POLICY applied to one resident: `require` raises NotEnrolledError under `enrolled`
    unless they are enrolled. A yes is remembered for `ttl` seconds (so a withdrawal takes effect in
    each process within `ttl`); a no is asked again every time, so an enrolment counts at once."""

    def __init__(self, engine: Engine, *, chain_id: int, policy: Policy, ttl: float = 60.0) -> None:
        self.engine = engine
        self.chain_id = chain_id
        self.policy = policy
        self.ttl = ttl
        self._yes: dict[str, float] = {}
        self._lock = threading.Lock()

    def require(self, resident: str, *, field: str = "resident") -> None:
        if self.policy == "open":
            return
        who = checksum(resident)
        now = time.monotonic()
        if self._yes.get(who, 0.0) > now:
            return
        with read_scope(self.engine) as session:
            enrolled = is_enrolled(session.connection(), chain_id=self.chain_id, resident=who)
        if not enrolled:
            raise NotEnrolledError(
                f"{who} is not enrolled: an accountable party (a platform or a service desk) must "
                "enrol a resident before they earn",
                field=field,
            )
        with self._lock:
            if len(self._yes) > 100_000:
                self._yes.clear()
            self._yes[who] = now + self.ttl


@dataclass(frozen=True)
class EnrolmentRequested:
    """The staff request that enrols the resident (GET /v1/actions/{id}), or None: enrolled already."""

    id: str | None
    status: str
    resident: str


_SIGNING: dict[str, threading.Lock] = {}


def request_enrolment(
    *,
    engine: Engine,
    rpc: ChainCalls,
    chain_id: int,
    contracts: Mapping[str, str],
    abis: Mapping[str, Any],
    enroller: LocalAccount,
    resident: str,
    party: str,
    evidence_hash: str,
    ttl: int,
    now: float | None = None,
) -> EnrolmentRequested:
    """Queues `EnrolmentRegistry.enrol(resident, party, evidence_hash)` signed by `enroller` (who must
    hold ENROLLER_ROLE: the enrolling party's own key). Durable when it returns; the resident counts
    as enrolled from then on. A resident enrolled already (mirror or outbox) gets
    `EnrolmentRequested(None, "enrolled", resident)` and nothing is sent. Raises the staff call's
    errors (`StaffCallRefusedError` when the chain would refuse it: no role, enrolled meanwhile)."""
    who = checksum(resident)
    if not isinstance(evidence_hash, str) or not _HEX32.match(evidence_hash):
        raise InvalidActionError("expected 0x followed by 64 hex digits", field="evidenceHash")
    code = party_code(party)
    with read_scope(engine) as session:
        if is_enrolled(session.connection(), chain_id=chain_id, resident=who):
            return EnrolmentRequested(None, "enrolled", who)
    at = time.time() if now is None else now
    # One signer at a time per key in this process: its requests take consecutive forwarder nonces.
    with _SIGNING.setdefault(enroller.address, threading.Lock()):
        with read_scope(engine) as session:
            typed = prepare_call(
                session=session,
                rpc=rpc,
                chain_id=chain_id,
                contracts=contracts,
                abis=abis,
                staff=enroller.address,
                contract=CONTRACT,
                function="enrol",
                args=[who, code, evidence_hash.lower()],
                now=int(at),
                ttl=ttl,
            )
        signature = enroller.sign_message(encode_typed_data(full_message=typed)).signature.to_0x_hex()
        action = verify_call(typed, signature, chain_id=chain_id, contracts=contracts, now=int(at))
        with session_scope(engine) as session:
            stored = accept_call(session=session, action=action)
    return EnrolmentRequested(stored.id, stored.status, who)
