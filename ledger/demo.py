"""Demo records for the development chain: one partner, one cause and one campaign, each marked demo.

`seed_demo` runs at every start when `ESG_DEMO_DATA` is on (by default in development only; refused
in production). It is idempotent: a `demo_seed` row per chain and CommunityRewards contract says it
is done, and the on-chain steps look for their own earlier work (a crash half-way leaves no
duplicates). The deployer key holds PARTNER_MANAGER_ROLE and CAMPAIGN_ROLE on a fresh deployment.

The partner and the cause wallet are addresses derived from fixed labels: nobody holds their keys,
and nobody needs to (a partner only receives points; a cause wallet only receives donations).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import requests
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from sqlalchemy import BigInteger, Engine, text
from sqlmodel import Field, Session, SQLModel
from web3 import Web3

from .chain.rpc import HttpRpc, display_url
from .db import session_scope
from .deploy import AdminSender, DeployedContract, Deployment
from .directory import ProfileKind, metadata_hash, put_profile
from .errors import ChainError, DeploymentError
from .settings import Settings

__all__ = [
    "DEMO_CAMPAIGN",
    "DEMO_CAUSE",
    "DEMO_PARTNER",
    "DemoChain",
    "DemoSeed",
    "create_demo_campaign",
    "demo_address",
    "seed_demo",
]

log = logging.getLogger(__name__)

_DAY = 86_400
_ZERO = "0x0000000000000000000000000000000000000000"
_LOCK = 7347216  # PostgreSQL advisory lock: one seeder at a time across API workers
_METRIC_TRASH_GRAMS = 0  # ICommunityRewards.CampaignMetric.TrashGrams
_CAMPAIGN_ACTIVE = 1  # ICommunityRewards.CampaignStatus.Active


@dataclass(frozen=True)
class DemoProfile:
    name: str
    description: str

    @property
    def metadata_hash(self) -> str:
        return metadata_hash(self.name, self.description)


DEMO_PARTNER = DemoProfile(
    "데모 상점 (Demo shop)",
    "개발용 데모 파트너입니다. 실제 상점이 아닙니다. (A demo partner for development, not a real shop.)",
)
DEMO_CAUSE = DemoProfile(
    "데모 기부처 (Demo cause)",
    "개발용 데모 기부처입니다. 실제 단체가 아닙니다. (A demo cause for development, not a real charity.)",
)
DEMO_CAMPAIGN = DemoProfile(
    "데모 캠페인: 한 달 동안 쓰레기 100kg 줍기 (Demo campaign: 100 kg of litter in a month)",
    "개발용 데모 캠페인입니다. (A demo campaign for development.)",
)
DEMO_CAMPAIGN_GOAL = 100_000  # grams


class DemoSeed(SQLModel, table=True):
    """The demo records seeded on a chain's CommunityRewards contract."""

    __tablename__ = "demo_seed"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    contract: str = Field(primary_key=True, max_length=42)
    partner: str = Field(max_length=42)
    cause_id: int = Field(sa_type=BigInteger)
    campaign_id: int = Field(sa_type=BigInteger)
    seeded_at: float


def demo_address(label: str) -> str:
    """A fixed, dev-only address nobody holds the key of: the last 20 bytes of keccak256(label)."""
    return to_checksum_address("0x" + keccak(f"esg-ledger demo: {label}".encode()).hex()[-40:])


def seed_demo(*, settings: Settings, rpc: HttpRpc, deployment: Deployment, engine: Engine) -> DemoSeed:
    """Registers the demo partner, cause and campaign on chain with their profiles, once per chain."""
    try:
        return _seed(settings=settings, rpc=rpc, deployment=deployment, engine=engine)
    except requests.RequestException as exc:  # web3's errors repeat the node's URL (and its key)
        raise ChainError(
            f"seeding demo data: lost the node at {display_url(settings.rpc)}: {exc.__class__.__name__}"
        ) from None


def _seed(*, settings: Settings, rpc: HttpRpc, deployment: Deployment, engine: Engine) -> DemoSeed:
    rewards = deployment.contracts["CommunityRewards"]
    with session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        # On SQLite this first statement takes the write turn: a second process waits here.
        done = session.get(DemoSeed, (deployment.chain_id, rewards.address))
        if done is not None:
            return done
        w3 = Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 60}))
        chain = DemoChain(
            sender=AdminSender(w3, settings.deployer(), deployment.chain_id),
            rewards=rewards,
            handle=w3.eth.contract(address=Web3.to_checksum_address(rewards.address), abi=rewards.abi),
            now=int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16),
        )
        partner = register_demo_partner(chain)
        cause_id = register_demo_cause(chain)
        chain.sender.settle()
        campaign_id = create_demo_campaign(chain)
        seed = DemoSeed(
            chain_id=deployment.chain_id,
            contract=rewards.address,
            partner=partner,
            cause_id=cause_id,
            campaign_id=campaign_id,
            seeded_at=time.time(),
        )
        _profiles(session, seed)
        session.add(seed)
    log.info("demo data: partner %s, cause %d, campaign %d", partner, cause_id, campaign_id)
    return seed


@dataclass(frozen=True)
class DemoChain:
    """What the on-chain steps need: the deployer's sender, CommunityRewards, the chain's time."""

    sender: AdminSender
    rewards: DeployedContract
    handle: Any  # web3 contract for CommunityRewards, for the views
    now: int

    def send(self, function: str, *args: Any) -> None:
        self.sender.transact(self.rewards, function, *args)


def register_demo_partner(chain: DemoChain) -> str:
    """setPartner(demo shop, burnOnRedeem=false, a year from now), unless it is registered already."""
    partner = demo_address("partner")
    registered, _burn, expires_at, stored = chain.handle.functions.partnerOf(partner).call()
    if not (registered and expires_at > chain.now and _hex(stored) == DEMO_PARTNER.metadata_hash):
        chain.send("setPartner", partner, False, chain.now + 365 * _DAY, _bytes(DEMO_PARTNER.metadata_hash))
    return partner


def register_demo_cause(chain: DemoChain) -> int:
    """setCause(id, demo wallet, active, hash) with the first id that is free (1 on a new chain)."""
    wallet = demo_address("cause wallet")
    cause_id = 1
    while True:
        stored_wallet, active, stored = chain.handle.functions.causeOf(cause_id).call()
        ours = _hex(stored) == DEMO_CAUSE.metadata_hash
        if ours and active and stored_wallet == wallet:
            return cause_id
        if stored_wallet == _ZERO or ours:
            break
        cause_id += 1
    chain.send("setCause", cause_id, wallet, True, _bytes(DEMO_CAUSE.metadata_hash))
    return cause_id


def create_demo_campaign(chain: DemoChain) -> int:
    """An active trash-grams campaign over the whole city, started a minute ago, for 30 days; returns
    its id. An active demo campaign from an earlier, interrupted seeding is reused."""
    found = _find_demo_campaign(chain)
    if found is not None:
        return found
    chain.send(
        "createCampaign",
        chain.now - 60,
        chain.now + 30 * _DAY,
        _METRIC_TRASH_GRAMS,
        0,  # areaCode: the whole city
        DEMO_CAMPAIGN_GOAL,
        _bytes(DEMO_CAMPAIGN.metadata_hash),
    )
    chain.sender.settle()
    created = _find_demo_campaign(chain)
    if created is None:
        raise DeploymentError("the demo campaign was created but is not on chain")
    return created


def _find_demo_campaign(chain: DemoChain) -> int | None:
    views = chain.handle.functions
    for campaign_id in range(int(views.campaignCount().call()), 0, -1):
        campaign = views.campaign(campaign_id).call()
        if _hex(campaign[7]) == DEMO_CAMPAIGN.metadata_hash and campaign[4] == _CAMPAIGN_ACTIVE:
            return campaign_id  # fields 7 and 4: metadataHash, status
    return None


def _profiles(session: Session, seed: DemoSeed) -> None:
    for kind, key, profile in (
        (ProfileKind.PARTNER, seed.partner, DEMO_PARTNER),
        (ProfileKind.CAUSE, str(seed.cause_id), DEMO_CAUSE),
        (ProfileKind.CAMPAIGN, str(seed.campaign_id), DEMO_CAMPAIGN),
    ):
        put_profile(
            session=session,
            chain_id=seed.chain_id,
            kind=kind,
            key=key,
            name=profile.name,
            description=profile.description,
            demo=True,
        )


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])
