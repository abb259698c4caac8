"""The development demo platform, with published credentials, so docs/api.md's platform journey runs
as printed against `scripts/run`. Development only (ESG_ENV=development with ESG_DEMO_DATA on; the
settings refuse demo data in production); its token and secret are in this file on purpose. Its
enroller key is generated (never published), and the deployer grants its address ENROLLER_ROLE here,
as a staff admin would with `esg-ledger staff grant enroller`, so `scripts/run` works under either
ESG_ENROLMENT_POLICY."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from web3 import Web3

from ..custody import custody_keys
from ..db import session_scope
from ..deploy import AdminSender, Deployment
from ..enrolment import CONTRACT
from ..kinds import KINDS
from ..settings import Settings
from ..staff.roles import ROLE_GRANTS
from .enroller import ensure_enroller_key
from .models import Platform
from .registry import add_platform

log = logging.getLogger(__name__)

DEMO_PLATFORM_ID = "demo-metaverse"
DEMO_PLATFORM_TOKEN = "esgp_demo-metaverse-token-for-development-only"  # published: development only
DEMO_WEBHOOK_SECRET = "whsec_demo-metaverse-secret-for-development-only"  # published: development only


def seed_demo_platform(
    *, settings: Settings, engine: Engine, deployment: Deployment | None = None
) -> str | None:
    """Registers the demo platform once (every kind allowed), with an enroller key the deployer grants
    ENROLLER_ROLE on `deployment`; returns how to use it (None outside development)."""
    keys = custody_keys(settings)
    if settings.env != "development" or not settings.demo_data or keys is None:
        return None
    with session_scope(engine) as session:
        if session.get(Platform, DEMO_PLATFORM_ID) is None:
            try:
                add_platform(
                    session=session,
                    keys=keys,
                    platform_id=DEMO_PLATFORM_ID,
                    name="데모 메타버스 (Demo metaverse)",
                    kinds=KINDS,
                    token=DEMO_PLATFORM_TOKEN,
                    secret=DEMO_WEBHOOK_SECRET,
                )
            except IntegrityError:  # another worker seeded it meanwhile
                session.rollback()
    with session_scope(engine) as session:  # a demo platform from before enroller keys gets one
        enroller = ensure_enroller_key(session=session, keys=keys, platform_id=DEMO_PLATFORM_ID)[0]
        address = enroller.enroller_address
    if deployment is not None and address is not None:
        _grant_enroller(settings, deployment, address)
    text = (
        f"demo platform {DEMO_PLATFORM_ID}: token {DEMO_PLATFORM_TOKEN}, webhook secret "
        f"{DEMO_WEBHOOK_SECRET}, enroller {address} (development only; docs/api.md, Platform journey)"
    )
    log.info(text)
    return text


def _grant_enroller(settings: Settings, deployment: Deployment, address: str) -> None:
    """The deployer (DEFAULT_ADMIN_ROLE on a development deployment) grants the demo platform's
    enroller address ENROLLER_ROLE, unless it holds it already."""
    try:
        w3 = Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 60}))
        sender = AdminSender(w3, settings.deployer(), deployment.chain_id)
        for name, role in ROLE_GRANTS["enroller"]:
            contract = deployment.contracts.get(name)
            if contract is None:
                continue
            handle: Any = w3.eth.contract(
                address=Web3.to_checksum_address(contract.address), abi=contract.abi
            )
            if not handle.functions.hasRole(bytes.fromhex(role[2:]), address).call():
                sender.transact(contract, "grantRole", bytes.fromhex(role[2:]), address)
                log.info("demo platform: granted ENROLLER_ROLE on %s to %s", CONTRACT, address)
        sender.settle()
    except Exception as exc:  # a development convenience: under `open` the platform works without it
        log.warning("demo platform: could not grant ENROLLER_ROLE to %s: %s", address, exc.__class__.__name__)
