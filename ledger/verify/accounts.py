"""Balances at a block, and redemptions with their partner's registration when they happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import is_address, to_checksum_address

from ..chain.calls import calldata
from ..deploy import Deployment
from ._errors import VerifyError
from ._node import SPECS, Node, as_deployment, decode, get_logs, quantity
from .records import Record, find_record

__all__ = ["Balance", "Redemption", "balance_at", "verify_redemption"]


@dataclass
class Balance:
    address: str
    balance: int
    block_number: int
    block_hash: str
    claimed: int | None = None
    agrees: bool | None = None  # None: nothing was claimed

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _block(node: Node, block: int | str) -> dict[str, Any]:
    tag = hex(block) if isinstance(block, int) else block
    found = node.call("eth_getBlockByNumber", [tag, False])
    if found is None:
        raise VerifyError(f"the node has no block {block}")
    return dict(found)


def balance_at(
    node: Node,
    deployment: Deployment | Mapping[str, Any],
    address: str,
    *,
    block: int | str = "latest",
    claimed: int | None = None,
) -> Balance:
    """The token contract's own `balanceOf` at a block (a tag is pinned to its number and hash first),
    compared with a claimed value if one is given."""
    if not is_address(address):
        raise VerifyError(f"not an address: {address!r}")
    d = as_deployment(deployment)
    who = to_checksum_address(address)
    header = _block(node, block)
    number = quantity(header["number"])
    # EIP-1898: by hash, so a reorg between the two calls cannot mix blocks
    reply = node.call(
        "eth_call",
        [
            {"to": d.address("ParticipationToken"), "data": calldata("balanceOf(address)", [who])},
            {"blockHash": header["hash"]},
        ],
    )
    value = int(abi_decode(["uint256"], bytes.fromhex(str(reply)[2:]))[0])
    return Balance(
        address=who,
        balance=value,
        block_number=number,
        block_hash=header["hash"],
        claimed=claimed,
        agrees=None if claimed is None else claimed == value,
    )


@dataclass
class Redemption:
    record: Record
    partner: str | None = None
    amount: int | None = None
    burned: bool | None = None
    block_timestamp: int | None = None
    registered: bool | None = None  # the partner's registration as of the redemption's log
    expires_at: int | None = None
    unexpired: bool | None = None
    registration: dict[str, Any] | None = None  # the PartnerSet / PartnerRemoved event it rests on

    @property
    def valid(self) -> bool:
        return bool(self.record.found and self.registered and self.unexpired)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "valid": self.valid}


def verify_redemption(
    node: Node, deployment: Deployment | Mapping[str, Any], digest: str, *, finality_depth: int = 64
) -> Redemption:
    """A redemption's record, and whether its partner was registered and unexpired at that point of the
    chain: the partner's last `PartnerSet` / `PartnerRemoved` before the redemption's log, and its
    `expiresAt` against the block's timestamp (the contract's own rule: `expiresAt > now`)."""
    d = as_deployment(deployment)
    record = find_record(node, d, digest, kind="redemption", finality_depth=finality_depth)
    out = Redemption(record=record)
    if not record.found:
        return out
    assert record.fields is not None and record.block_number is not None and record.log_index is not None
    out.partner, out.amount, out.burned = (
        record.fields["partner"],
        record.fields["amount"],
        record.fields["burned"],
    )
    out.block_timestamp = quantity(_block(node, record.block_number)["timestamp"])
    topics = [
        sorted((SPECS["PartnerSet"].topic0, SPECS["PartnerRemoved"].topic0)),
        "0x" + bytes(12).hex() + out.partner[2:].lower(),
    ]
    registration = None
    for log in get_logs(node, d.address("CommunityRewards"), topics, d.start_block, record.block_number):
        if (quantity(log["blockNumber"]), quantity(log["logIndex"])) < (
            record.block_number,
            record.log_index,
        ):
            registration = log
    out.registered = registration is not None and registration["topics"][0] == SPECS["PartnerSet"].topic0
    if registration is not None:
        spec, fields = decode(registration, d.chain_id)
        out.registration = {
            "event": spec.name,
            "blockNumber": quantity(registration["blockNumber"]),
            "transactionHash": registration["transactionHash"],
            "logIndex": quantity(registration["logIndex"]),
            "fields": fields,
        }
        if out.registered:
            out.expires_at = int(fields["expires_at"])
    out.unexpired = out.expires_at is not None and out.expires_at > out.block_timestamp
    return out
