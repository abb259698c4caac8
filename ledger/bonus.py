"""Campaign bonuses: each campaign's published distribution, as a StandardMerkleTree over
`(address resident, uint256 amount)` leaves, kept in SQL with every resident's proof.

Publishing is a commitment: the same allocation published again is the same tree, and a different one
for a campaign that has a tree is refused. `post_root` puts the root on chain (setCampaignBonus, by a
CAMPAIGN_ROLE holder); residents then sign a `Claim` of the amount `leaf_for` gives them, and the
relayer sends it with the stored proof. Amounts and the total must fit the contract's uint128.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, cast

import requests
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_checksum_address, is_checksum_formatted_address, is_hex_address
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    ForeignKeyConstraint,
    Text,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted

from .chain.revert import ErrorDecoder
from .chain.rpc import display_url
from .db import read_scope, session_scope
from .deploy import Deployment
from .errors import (
    BonusTreeConflictError,
    BonusTreeNotFoundError,
    ChainError,
    InvalidAllocationError,
)
from .merkle import StandardMerkleTree
from .sqltypes import BigUint
from .types import ZERO_ADDRESS, Address, checksum, parse_checksummed

__all__ = [
    "LEAF_ENCODING",
    "BonusLeaf",
    "BonusTree",
    "get_tree",
    "leaf_for",
    "leaves",
    "post_root",
    "publish_tree",
]

log = logging.getLogger(__name__)

LEAF_ENCODING = ("address", "uint256")  # RewardCampaigns: keccak256(abi.encode(resident, amount))
MAX_TOTAL = 2**128 - 1  # setCampaignBonus(uint256, bytes32, uint128 total)
MAX_CAMPAIGN_ID = 2**64 - 1  # Claim.campaignId is a uint64


class BonusTree(SQLModel, table=True):
    """A campaign's published bonus tree; `posted_tx_hash` once its root was sent on chain."""

    __tablename__ = "campaign_bonus_tree"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    campaign_id: int = Field(primary_key=True, sa_type=BigInteger)
    root: str = Field(max_length=66)
    total: int = Field(sa_column=Column(BigUint(), nullable=False))
    leaf_count: int
    rule: str = Field(sa_column=Column(Text, nullable=False))  # how the amounts were computed
    published_at: float
    posted_tx_hash: str | None = Field(default=None, max_length=66)


class BonusLeaf(SQLModel, table=True):
    """One resident's amount in a published tree, with its proof (JSON list of 0x hex)."""

    __tablename__ = "campaign_bonus_leaf"
    __table_args__ = (
        ForeignKeyConstraint(
            ["chain_id", "campaign_id"], ["campaign_bonus_tree.chain_id", "campaign_bonus_tree.campaign_id"]
        ),
    )

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    campaign_id: int = Field(primary_key=True, sa_type=BigInteger)
    resident: str = Field(primary_key=True, max_length=42)  # EIP-55
    amount: int = Field(sa_column=Column(BigUint(), nullable=False))
    tree_index: int  # the leaf's place in the tree's node array (the JS dump's treeIndex)
    proof: str = Field(sa_column=Column(Text, nullable=False))


def _resident(raw: object) -> Address:
    if not isinstance(raw, str) or not raw.startswith("0x") or not is_hex_address(raw):
        raise InvalidAllocationError("not an address (0x and 40 hex digits)", resident=str(raw))
    # eth-utils 6's is_address no longer checks EIP-55: a mixed-case address whose checksum is wrong
    # is most likely mistyped, and its points would go to a key nobody holds.
    if is_checksum_formatted_address(raw) and not is_checksum_address(raw):
        raise InvalidAllocationError(
            f"mixed case that is not its EIP-55 checksum {checksum(raw)}", resident=raw
        )
    return checksum(raw)


def _normalize(allocations: Mapping[str, int]) -> dict[Address, int]:
    if not allocations:
        raise InvalidAllocationError("an allocation needs at least one resident")
    out: dict[Address, int] = {}
    for raw, amount in allocations.items():
        resident = _resident(raw)
        if resident == ZERO_ADDRESS:
            raise InvalidAllocationError("the zero address cannot claim", resident=raw)
        if resident in out:
            raise InvalidAllocationError(f"listed twice (also as {resident})", resident=raw)
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise InvalidAllocationError(f"the amount must be an integer, got {amount!r}", resident=raw)
        if amount <= 0:
            raise InvalidAllocationError(f"the amount must be positive, got {amount}", resident=raw)
        out[resident] = amount
    total = sum(out.values())
    if total > MAX_TOTAL:
        raise InvalidAllocationError(f"the total {total} exceeds the contract's uint128 bonus total")
    return out


def publish_tree(
    *, session: Session, chain_id: int, campaign_id: int, allocations: Mapping[str, int], rule: str
) -> BonusTree:
    """Builds and stores campaign `campaign_id`'s bonus tree from `{resident: amount}`.

    Publishing the same allocation again returns the stored tree (its first `rule` stays); a
    different one raises BonusTreeConflictError. Bad input raises InvalidAllocationError.
    """
    if not 1 <= campaign_id <= MAX_CAMPAIGN_ID:
        raise InvalidAllocationError(f"campaign ids run from 1 to {MAX_CAMPAIGN_ID}, got {campaign_id}")
    if not rule.strip():
        raise InvalidAllocationError(
            "say how the amounts were computed (the rule is part of the audit trail)"
        )
    amounts = _normalize(allocations)
    values = sorted(amounts.items())
    tree = StandardMerkleTree.of(values, LEAF_ENCODING)
    existing = get_tree(session=session, chain_id=chain_id, campaign_id=campaign_id)
    if existing is not None:
        return _same_or_conflict(existing, tree.root)
    row = BonusTree(
        chain_id=chain_id,
        campaign_id=campaign_id,
        root=tree.root,
        total=sum(amounts.values()),
        leaf_count=len(values),
        rule=rule,
        published_at=time.time(),
    )
    rows = [
        {
            "chain_id": chain_id,
            "campaign_id": campaign_id,
            "resident": resident,
            "amount": amount,
            "tree_index": tree.tree_index(i),
            "proof": json.dumps(tree.proof(i)),
        }
        for i, (resident, amount) in enumerate(values)
    ]
    try:
        with session.begin_nested():  # another publisher may have won the race since the read above
            session.add(row)
            session.flush()
            session.execute(insert(BonusLeaf), rows)
    except IntegrityError:
        existing = session.get(BonusTree, (chain_id, campaign_id), populate_existing=True)
        if existing is None:
            raise
        return _same_or_conflict(existing, tree.root)
    log.info("published campaign %d's bonus tree: root %s, %d residents", campaign_id, row.root, len(rows))
    return row


def _same_or_conflict(existing: BonusTree, root: str) -> BonusTree:
    if existing.root != root:
        raise BonusTreeConflictError(existing.chain_id, existing.campaign_id, existing.root, root)
    return existing


def get_tree(*, session: Session, chain_id: int, campaign_id: int) -> BonusTree | None:
    return session.get(BonusTree, (chain_id, campaign_id))


def leaves(*, session: Session, chain_id: int, campaign_id: int) -> list[BonusLeaf]:
    """The tree's leaves, by resident."""
    query = (
        select(BonusLeaf)
        .where(BonusLeaf.chain_id == chain_id, BonusLeaf.campaign_id == campaign_id)  # type: ignore[arg-type]
        .order_by(BonusLeaf.resident)
    )
    return list(session.scalars(query))


def leaf_for(
    *, session: Session, chain_id: int, campaign_id: int, resident: str
) -> tuple[int, list[str]] | None:
    """`resident`'s amount and proof in the campaign's published tree; None when it gives them nothing."""
    try:
        address = parse_checksummed(resident)
    except (ValueError, TypeError):
        return None
    leaf = session.get(BonusLeaf, (chain_id, campaign_id, address))
    if leaf is None:
        return None
    proof: list[str] = json.loads(leaf.proof)
    return leaf.amount, proof


def post_root(
    *,
    engine: Engine,
    deployment: Deployment,
    signer: LocalAccount,
    rpc_url: str,
    campaign_id: int,
    timeout: float = 120.0,
) -> BonusTree:
    """Sends the published tree's root and total with setCampaignBonus (signed by `signer`, who needs
    CAMPAIGN_ROLE; the campaign must be Achieved) and records the transaction's hash.

    Takes an engine, not a session: the wait for the receipt happens between two short transactions,
    so no database write lock is held across it. Nothing is sent when the chain already has this
    root and total. A refusal by the contract raises ContractRevertError (decoded), a lost node
    ChainError, no published tree BonusTreeNotFoundError.
    """
    chain_id = deployment.chain_id
    with read_scope(engine) as session:
        tree = get_tree(session=session, chain_id=chain_id, campaign_id=campaign_id)
    if tree is None:
        raise BonusTreeNotFoundError(chain_id, campaign_id)
    try:
        tx_hash = _send_root(deployment, signer, rpc_url, tree, timeout)
    except requests.RequestException as exc:
        # web3's HTTP errors repeat the node's URL, and a provider's URL holds its API key.
        raise ChainError(
            f"posting campaign {campaign_id}'s bonus root: lost the node at {display_url(rpc_url)}: "
            f"{exc.__class__.__name__}"
        ) from None
    if tx_hash is None:
        return tree
    with session_scope(engine) as session:
        row = session.get(BonusTree, (chain_id, campaign_id))
        assert row is not None  # trees are never deleted
        row.posted_tx_hash = tx_hash
        session.add(row)
    log.info("posted campaign %d's bonus root %s in %s", campaign_id, tree.root, tx_hash)
    return row


def _send_root(
    deployment: Deployment, signer: LocalAccount, rpc_url: str, tree: BonusTree, timeout: float
) -> str | None:
    rewards = deployment.contracts["CommunityRewards"]
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
    contract = w3.eth.contract(address=Web3.to_checksum_address(rewards.address), abi=rewards.abi)
    root = bytes.fromhex(tree.root[2:])
    campaign = contract.functions.campaign(tree.campaign_id).call()
    if (bytes(campaign[8]), int(campaign[9])) == (root, tree.total):  # (bonusRoot, bonusTotal)
        log.info("campaign %d already has bonus root %s on chain", tree.campaign_id, tree.root)
        return None
    call = contract.functions.setCampaignBonus(tree.campaign_id, root, tree.total)
    try:
        tx: dict[str, Any] = cast(
            dict[str, Any],
            call.build_transaction(
                {
                    "from": signer.address,
                    "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
                    "chainId": deployment.chain_id,
                }
            ),
        )
    except ContractLogicError as exc:  # the node's estimate ran into a revert: say which error
        if not isinstance(exc.data, str) or not exc.data.startswith("0x"):
            raise ChainError(
                f"setCampaignBonus for campaign {tree.campaign_id} would revert: {exc}"
            ) from None
        decoder = ErrorDecoder([c.abi for c in deployment.contracts.values()])
        raise decoder.decode(bytes.fromhex(exc.data[2:])) from None
    sent = w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
    try:
        receipt = w3.eth.wait_for_transaction_receipt(sent, timeout=timeout)
    except TimeExhausted:
        raise ChainError(
            f"setCampaignBonus for campaign {tree.campaign_id} ({sent.to_0x_hex()}) was not mined "
            f"within {timeout:g}s"
        ) from None
    if receipt["status"] != 1:
        raise ChainError(f"setCampaignBonus for campaign {tree.campaign_id} reverted in {sent.to_0x_hex()}")
    return str(sent.to_0x_hex())
