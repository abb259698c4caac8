"""Acting for a custodial resident: prepare, sign with their key, verify, in one call.

Both ways a platform acts for its residents use this one path: `POST /v1/custody/actions` (one
action) and a signed webhook delivery (several, ledger/platforms/webhooks.py). What comes out is
checked exactly as any resident's own submission is (`intake.verify_submission`), enrolment policy
included (an unenrolled resident is refused by `prepare`, before a nonce is taken or a key opened),
so the accept queue sees nothing it would not accept from a resident's wallet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from ..db import read_scope
from ..errors import KindNotAllowedError
from ..intake import EnrolmentCheck, attach, prepare, verify_submission
from ..kinds import ChainCalls, VerifiedAction, kind
from .keys import KeyEncrypter
from .wallets import get_wallet, sign_action


@dataclass(frozen=True)
class ActingContext:
    """The deployment custody signs for: node, chain id, contracts, the engine for kind lookups, and
    ESG_ENROLMENT_POLICY (`enrolment`, the API's `services.enrolment`; None: not checked)."""

    rpc: ChainCalls
    chain_id: int
    contracts: Mapping[str, str]
    engine: Engine
    ttl: int
    enrolment: EnrolmentCheck | None = None


@dataclass(frozen=True)
class SignedAction:
    """A custodial resident's signed action, verified as a submission, not yet accepted."""

    typed_data: dict[str, Any]
    signature: str
    action: VerifiedAction


def check_kind(kind_name: str, allowed: frozenset[str], *, field: str = "kind") -> None:
    """A platform submits only the kinds it was registered for."""
    kind(kind_name, field=field)  # an unknown kind is UnsupportedActionError, naming the field
    if kind_name not in allowed:
        err = KindNotAllowedError(f"this platform may submit {sorted(allowed)}, not {kind_name!r}")
        err.field = field
        raise err


def sign_for(
    *,
    session: Session,
    ctx: ActingContext,
    keys: KeyEncrypter,
    platform_id: str,
    allowed_kinds: frozenset[str],
    subject: str,
    kind_name: str,
    payload: Any,
    now: int,
) -> SignedAction:
    """Prepares `kind_name` for the subject's wallet, signs it with their custodial key and verifies it.
    Ends the session's transaction before verifying (the accept queue's writer needs the lock)."""
    check_kind(kind_name, allowed_kinds)
    address = get_wallet(session=session, subject=subject, platform_id=platform_id).address
    typed = prepare(
        session=session,
        rpc=ctx.rpc,
        chain_id=ctx.chain_id,
        contracts=ctx.contracts,
        kind_name=kind_name,
        resident=address,
        payload=payload,
        now=now,
        ttl=ctx.ttl,
        enrolment=ctx.enrolment,
    )
    _, signature = sign_action(
        session=session,
        subject=subject,
        platform_id=platform_id,
        keys=keys,
        spec=kind(kind_name).eip712,
        typed_data=typed,
    )
    session.rollback()
    action = verify_submission(
        typed, signature, chain_id=ctx.chain_id, contracts=ctx.contracts, now=now, enrolment=ctx.enrolment
    )
    if kind(action.kind).attach is not None:
        with read_scope(ctx.engine) as reader:
            action = attach(action, session=reader, chain_id=ctx.chain_id)
    return SignedAction(typed_data=typed, signature=signature, action=action)
