"""Community rewards (CommunityRewards): points redeemed at a registered partner (`redemption`),
given to a registered cause (`donation`), and a campaign's bonus claimed from its published Merkle
tree (`claim`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from ..bonus import leaf_for
from ..chain.calls import view
from ..eip712 import ActionType
from ..errors import ActionConflictError
from ._base import BatchKind, Kind, PrepareContext
from ._fields import Address, Amount, Bytes32, Uint32, Uint64

_NONCE_DEADLINE = (("nonce", "uint64"), ("deadline", "uint64"))

REDEMPTION = ActionType(
    kind="redemption",
    contract="CommunityRewards",
    primary_type="Redemption",
    fields=(
        ("resident", "address"),
        ("partner", "address"),
        ("amount", "uint256"),
        ("offerHash", "bytes32"),
        *_NONCE_DEADLINE,
    ),
)

DONATION = ActionType(
    kind="donation",
    contract="CommunityRewards",
    primary_type="Donation",
    fields=(("resident", "address"), ("causeId", "uint32"), ("amount", "uint256"), *_NONCE_DEADLINE),
)

CLAIM = ActionType(
    kind="claim",
    contract="CommunityRewards",
    primary_type="Claim",
    fields=(("resident", "address"), ("campaignId", "uint64"), ("amount", "uint256"), *_NONCE_DEADLINE),
)


class _Signed(BaseModel):
    resident: Address
    nonce: Uint64
    deadline: Uint64


class RedemptionPayload(BaseModel):
    """Points spent at a registered partner, for the offer whose description hashes to `offerHash`."""

    model_config = ConfigDict(extra="forbid")

    partner: Address
    amount: Amount
    offerHash: Bytes32


class RedemptionMessage(RedemptionPayload, _Signed):
    """The signed `Redemption`."""


class DonationPayload(BaseModel):
    """Points given to a registered cause."""

    model_config = ConfigDict(extra="forbid")

    causeId: Uint32
    amount: Amount


class DonationMessage(DonationPayload, _Signed):
    """The signed `Donation`."""


class ClaimPayload(BaseModel):
    """A campaign's bonus: the amount comes from the campaign's published tree."""

    model_config = ConfigDict(extra="forbid")

    campaignId: Uint64


class ClaimMessage(ClaimPayload, _Signed):
    """The signed `Claim`: the campaign and the amount the tree gives this resident."""

    amount: Amount


def _check_balance(ctx: PrepareContext, amount: int) -> None:
    (balance,) = view(
        ctx.rpc, ctx.contracts["ParticipationToken"], "balanceOf(address)", [ctx.resident], ["uint256"]
    )
    if amount > balance:
        raise ActionConflictError(
            f"the resident holds {balance} points, fewer than {amount}", field="payload.amount"
        )


def _fill_redemption(ctx: PrepareContext, payload: dict[str, Any]) -> dict[str, Any]:
    rewards = ctx.contracts["CommunityRewards"]
    (active,) = view(ctx.rpc, rewards, "isPartnerActive(address)", [payload["partner"]], ["bool"])
    if not active:
        raise ActionConflictError(
            f"{payload['partner']} is not a registered partner, or its registration expired",
            field="payload.partner",
        )
    _check_balance(ctx, payload["amount"])
    return payload


def _fill_donation(ctx: PrepareContext, payload: dict[str, Any]) -> dict[str, Any]:
    rewards = ctx.contracts["CommunityRewards"]
    ((_wallet, active, _meta),) = view(
        ctx.rpc, rewards, "causeOf(uint32)", [payload["causeId"]], ["(address,bool,bytes32)"]
    )
    if not active:
        raise ActionConflictError(f"no active cause {payload['causeId']}", field="payload.causeId")
    _check_balance(ctx, payload["amount"])
    return payload


def _fill_claim(ctx: PrepareContext, payload: dict[str, Any]) -> dict[str, Any]:
    campaign = payload["campaignId"]
    leaf = leaf_for(session=ctx.session, chain_id=ctx.chain_id, campaign_id=campaign, resident=ctx.resident)
    if leaf is None:
        raise ActionConflictError(
            f"campaign {campaign} has published no bonus for {ctx.resident}", field="payload.campaignId"
        )
    (claimed,) = view(
        ctx.rpc,
        ctx.contracts["CommunityRewards"],
        "hasClaimed(uint256,address)",
        [campaign, ctx.resident],
        ["bool"],
    )
    if claimed:
        raise ActionConflictError(
            f"{ctx.resident} already claimed campaign {campaign}'s bonus", field="payload.campaignId"
        )
    return {"campaignId": campaign, "amount": leaf[0]}


def _attach_proof(session: Session, chain_id: int, message: dict[str, Any]) -> dict[str, Any]:
    """The claim's Merkle proof, stored beside the signed fields (the contract checks it, the
    resident does not sign it)."""
    leaf = leaf_for(
        session=session, chain_id=chain_id, campaign_id=message["campaignId"], resident=message["resident"]
    )
    if leaf is None or leaf[0] != message["amount"]:
        raise ActionConflictError(
            f"campaign {message['campaignId']}'s published tree gives {message['resident']} "
            f"{'nothing' if leaf is None else leaf[0]}, not {message['amount']}",
            field="typedData.message.amount",
        )
    return {"proof": leaf[1]}


def _redemption_item(m: dict[str, Any], signature: bytes) -> tuple[Any, ...]:
    offer = bytes.fromhex(m["offerHash"][2:])
    return ((m["resident"], m["partner"], m["amount"], offer, m["nonce"], m["deadline"]), signature)


def _donation_item(m: dict[str, Any], signature: bytes) -> tuple[Any, ...]:
    return ((m["resident"], m["causeId"], m["amount"], m["nonce"], m["deadline"]), signature)


def _claim_item(m: dict[str, Any], signature: bytes) -> tuple[Any, ...]:
    claim = (m["resident"], m["campaignId"], m["amount"], m["nonce"], m["deadline"])
    return (claim, [bytes.fromhex(p[2:]) for p in m["proof"]], signature)


def _batch(
    kind: str, function: str, item: str, encoder: Any, event: str, check: str, topic: int
) -> BatchKind:
    return BatchKind(
        kind=kind,
        contract="CommunityRewards",
        function=function,
        item_type=item,
        encode_item=encoder,
        recorded_event=event,
        check_function=check,
        max_batch=64,
        digest_topic=topic,
    )


REDEMPTION_KIND = Kind(
    eip712=REDEMPTION,
    payload=RedemptionPayload,
    message=RedemptionMessage,
    fill=_fill_redemption,
    batch=_batch(
        "redemption",
        "redeemBatch",
        "((address,address,uint256,bytes32,uint64,uint64),bytes)",
        _redemption_item,
        "Redeemed",  # Redeemed(bytes32 indexed digest, …)
        "checkRedemption",
        1,
    ),
)

DONATION_KIND = Kind(
    eip712=DONATION,
    payload=DonationPayload,
    message=DonationMessage,
    fill=_fill_donation,
    batch=_batch(
        "donation",
        "donateBatch",
        "((address,uint32,uint256,uint64,uint64),bytes)",
        _donation_item,
        "Donated",  # Donated(bytes32 indexed digest, …)
        "checkDonation",
        1,
    ),
)

CLAIM_KIND = Kind(
    eip712=CLAIM,
    payload=ClaimPayload,
    message=ClaimMessage,
    fill=_fill_claim,
    attach=_attach_proof,
    batch=_batch(
        "claim",
        "claimBatch",
        "((address,uint64,uint256,uint64,uint64),bytes32[],bytes)",
        _claim_item,
        "BonusClaimed",  # BonusClaimed(uint256 indexed campaignId, bytes32 indexed digest, …)
        "checkClaim",
        2,
    ),
)
