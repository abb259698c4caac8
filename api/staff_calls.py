"""A staff member's own call of a ledger contract's staff function, relayed: `act(...)`.

The workflow routes (verification, feedback, campaigns, partners, policy, roles) call `act` with
the signed-in principal and the contract call they mean. It prepares the `ForwardRequest`
(`ledger.staff_actions.prepare_call`: allow-list, arguments, a simulation that refuses a call the
chain would revert, nonce, gas, deadline) and then:

- a custodial member (the product holds their key, `api.security.staff_signer`): signs it for them,
  verifies it exactly as a wallet's signature would be verified, and stores it in the outbox
  (durable before the answer) → `{"id", "status": "queued"}`;
- a wallet member: → `{"typedData"}`, for them to sign and POST to /v1/staff/actions.

A member's requests run in nonce order. Within one HTTP request (a bulk answer, a bulk verify),
each call of `act` for a wallet member takes the nonce after the ones handed out before it, and is
simulated after them, so the whole bulk can be signed and submitted together. One process signs a
custodial member's calls one at a time (a lock per member), so two concurrent calls never get the
same nonce from it.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from typing import Any

from fastapi.concurrency import run_in_threadpool

from ledger.db import read_scope, session_scope
from ledger.errors import InvalidSignatureError
from ledger.staff_actions import accept_call, prepare_call, verify_call

from .security import StaffPrincipal, staff_signer
from .services import Services

__all__ = ["accept", "act", "prepare", "verify"]

# The requests handed out to wallet members earlier in this HTTP request (a bulk), per member. Each
# request runs in a task of its own, so a value set here never reaches another request.
_HANDED_OUT: ContextVar[dict[str, list[dict[str, Any]]] | None] = ContextVar("staff_handed_out", default=None)
_LOCKS: dict[str, asyncio.Lock] = {}


def prepare(
    services: Services,
    staff: str,
    *,
    contract: str,
    function: str,
    args: Any,
    unsigned: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ForwardRequest typed data for `staff` (blocking: it reads SQL and simulates on the node)."""
    with read_scope(services.engine) as session:
        return prepare_call(
            session=session,
            rpc=services.rpc,
            chain_id=services.deployment.chain_id,
            contracts=services.contract_addresses,
            abis={name: c.abi for name, c in services.deployment.contracts.items()},
            staff=staff,
            contract=contract,
            function=function,
            args=args,
            now=int(time.time()),
            ttl=services.settings.action_ttl,
            unsigned=unsigned or (),
        )


def verify(services: Services, typed_data: Any, signature: Any) -> Any:
    """The signed request checked against this deployment (`ledger.staff_actions.verify_call`)."""
    return verify_call(
        typed_data,
        signature,
        chain_id=services.deployment.chain_id,
        contracts=services.contract_addresses,
        now=int(time.time()),
    )


def accept(services: Services, action: Any) -> dict[str, Any]:
    """Stores a verified request durably (committed before this returns); the same one twice is one."""
    with session_scope(services.engine) as session:
        stored = accept_call(session=session, action=action)
    return {"id": stored.id, "status": stored.status}


async def act(
    services: Services, principal: StaffPrincipal, *, contract: str, function: str, args: list[Any]
) -> dict[str, Any]:
    """Queues `principal`'s call (custodial: signed for them) or hands back the typed data to sign."""
    sign = staff_signer(services, principal)
    if sign is None:
        handed_out = _HANDED_OUT.get()
        if handed_out is None:
            handed_out = {}
            _HANDED_OUT.set(handed_out)
        earlier = handed_out.setdefault(principal.address, [])
        typed = await run_in_threadpool(
            prepare,
            services,
            principal.address,
            contract=contract,
            function=function,
            args=args,
            unsigned=earlier,
        )
        earlier.append(typed["message"])
        return {"typedData": typed}
    lock = _LOCKS.setdefault(principal.address, asyncio.Lock())
    async with lock:
        typed = await run_in_threadpool(
            prepare, services, principal.address, contract=contract, function=function, args=args
        )
        signature = await run_in_threadpool(sign, typed)
        action = verify(services, typed, signature)
        if action.resident != principal.address:
            raise InvalidSignatureError(
                f"the custodial key signs as {action.resident}, not as {principal.address}", field="signature"
            )
        return await run_in_threadpool(accept, services, action)
