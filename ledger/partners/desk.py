"""The partner desk: a shop reads a resident's redemption request (a QR payload), previews it and
accepts it into the outbox.

A request is checked exactly as `POST /v1/actions` checks a submission (`intake.verify_submission`:
types, domain, strict fields, deadline, the resident's signature, ERC-1271 for smart accounts), and
then as the chain will (`CommunityRewards.checkRedemption`: partner registration and expiry, the
resident's balance, the nonce, the deadline at the latest block), so a shop never hands the relayer
a redemption that cannot be recorded now. The caller accepts it through the same accept queue as
any action and then records it here (`record_acceptance`), idempotently: the same request twice is
one action and one row.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from eth_abi.abi import encode
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from ..chain.calls import view
from ..chain.revert import ErrorDecoder
from ..errors import ActionError, ContractRevertError
from ..intake import Erc1271Check, verify_submission
from ..kinds import KINDS, VerifiedAction
from ..redemption_requests import FIELD, RedemptionRequest, decode
from ..types import checksum
from .errors import RedemptionRefusedError, WrongPartnerError
from .models import PartnerRedemption

__all__ = ["Checked", "DeskChain", "check_on_chain", "record_acceptance", "verify_request"]

_REDEMPTION = KINDS["redemption"].batch
_TABLE: Table = PartnerRedemption.__table__  # type: ignore[attr-defined]
# Which part of the request each of the chain's refusals is about
_REASON_FIELDS = {
    "CommunityRewardsInsufficientBalance": "amount",
    "CommunityRewardsZeroAmount": "amount",
    "CommunityRewardsUnknownPartner": "partner",
    "CommunityRewardsPartnerExpired": "partner",
    "SignedActionsExpired": "deadline",
    "SignedActionsNonceUsed": "nonce",
    "SignedActionsNonceTooOld": "nonce",
    "SignedActionsNonceExhausted": "nonce",
    "SignedActionsInvalidSignature": "signature",
}


class _Calls(Protocol):
    def call(self, method: str, params: Any = ()) -> Any: ...


@dataclass(frozen=True)
class DeskChain:
    """What the desk needs of the deployment: the node, the chain id, the contracts, their errors."""

    rpc: _Calls
    chain_id: int
    contracts: Mapping[str, str]
    decoder: ErrorDecoder
    erc1271: Erc1271Check | None = None


@dataclass(frozen=True)
class Checked:
    """A request that passed the submit checks, and what the chain says of it now."""

    request: RedemptionRequest
    action: VerifiedAction
    balance: int  # the resident's points now, on chain
    refusal: RedemptionRefusedError | None  # why the chain would not record it now, if it would not


def _request_field(field: str | None) -> str:
    """`typedData.message.amount` → `request.amount`: the request is the only input."""
    if not field or field.startswith("typedData.types") or field == "typedData":
        return FIELD
    return f"{FIELD}.{field.rsplit('.', 1)[-1]}"


def verify_request(payload: Any, *, partner: str, chain: DeskChain, now: int | None = None) -> VerifiedAction:
    """The request's action, verified as `POST /v1/actions` verifies one; a request for another
    partner than `partner` is refused (403) before anything else is checked."""
    request = decode(payload)
    if request.message["partner"] != checksum(partner):
        raise WrongPartnerError(
            f"this redemption is for {request.message['partner']}, not for {checksum(partner)}",
            field=f"{FIELD}.partner",
        )
    return _verified(request, chain, now)


def _verified(request: RedemptionRequest, chain: DeskChain, now: int | None) -> VerifiedAction:
    try:
        return verify_submission(
            request.typed_data(),
            request.signature,
            chain_id=chain.chain_id,
            contracts=chain.contracts,
            now=int(time.time()) if now is None else now,
            erc1271=chain.erc1271,
        )
    except ActionError as exc:
        raise type(exc)(exc.message, field=_request_field(exc.field)) from None


def check_on_chain(action: VerifiedAction, *, chain: DeskChain) -> Checked:
    """What `CommunityRewards.checkRedemption` says of the action at the latest block, and the
    resident's balance."""
    message = action.message
    item = _REDEMPTION.encode_item(message, bytes.fromhex(action.signature[2:]))
    data = _REDEMPTION.check_selector + encode([_REDEMPTION.item_type], [item])
    result = chain.rpc.call("eth_call", [{"to": action.contract, "data": "0x" + data.hex()}, "latest"])
    reason = _REDEMPTION.decode_reason(str(result))
    (balance,) = view(
        chain.rpc, chain.contracts["ParticipationToken"], "balanceOf(address)", [action.resident], ["uint256"]
    )
    refusal = None
    if reason:
        decoded: ContractRevertError = chain.decoder.decode(reason)
        where = _REASON_FIELDS.get(decoded.name)
        refusal = RedemptionRefusedError(str(decoded), field=f"{FIELD}.{where}" if where else FIELD)
    request = RedemptionRequest(
        chain_id=chain.chain_id, contract=action.contract, message=message, signature=action.signature
    )
    return Checked(request=request, action=action, balance=int(balance), refusal=refusal)


def record_acceptance(
    *, session: Session, action: VerifiedAction, chain_id: int, key_id: str, now: float
) -> None:
    """Links an accepted action to the partner and the key that accepted it; once per action."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    m = action.message
    session.execute(
        insert(_TABLE)
        .values(
            action_id=action.id,
            chain_id=chain_id,
            partner=m["partner"],
            key_id=key_id,
            resident=action.resident,
            amount=m["amount"],
            offer_hash=m["offerHash"],
            accepted_at=now,
        )
        .on_conflict_do_nothing(index_elements=["action_id"])
    )
