"""The development demo staff account: custodial, holding every role, with published credentials.

Development only (ESG_ENV=development with ESG_DEMO_DATA on; the settings refuse demo data in
production). Its address is the deployer's, which holds every staff role on a development
deployment except AUDITOR_ROLE (nobody gets it at deployment), granted here. The deployer key is
sealed as the member's custodial key, so the demo member's relayed actions are signed by it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from web3 import Web3

from ..db import session_scope
from ..deploy import AdminSender, Deployment
from ..settings import Settings
from .keys import staff_keys
from .members import activate_member, invite_member
from .passwords import find_member, totp_uri
from .roles import ROLE_GRANTS

log = logging.getLogger(__name__)

DEMO_LOGIN = "demo"
DEMO_PASSWORD = "demo-staff-password"  # published on purpose: development only
DEMO_TOTP_SECRET = "ESGLEDGERDEMOSTAFFTOTPSECRET2345"
DEMO_NAME = "데모 직원 (Demo staff)"


def seed_demo_staff(*, settings: Settings, engine: Engine, deployment: Deployment) -> str | None:
    """Creates the demo member once, grants the deployer AUDITOR_ROLE where it lacks it, and logs how
    to sign in; returns that text (None outside development)."""
    if settings.env != "development" or not settings.demo_data:
        return None
    deployer = settings.deployer()
    with session_scope(engine) as session:
        if find_member(session, DEMO_LOGIN) is None and find_member(session, deployer.address) is None:
            try:
                invitation = invite_member(
                    session=session,
                    name=DEMO_NAME,
                    created_by="development demo",
                    now=time.time(),
                    login=DEMO_LOGIN,
                    keys=staff_keys(settings),
                    password=DEMO_PASSWORD,
                    account=deployer,
                    totp_secret=DEMO_TOTP_SECRET,
                )
                assert invitation.member.id is not None
                activate_member(
                    session=session, member_id=invitation.member.id, by="development demo", now=time.time()
                )
                session.flush()
            except IntegrityError:  # another worker seeded it meanwhile
                session.rollback()
    _grant_auditor(settings, deployment)
    text = how_to_sign_in(settings)
    log.warning("%s", text)
    return text


def how_to_sign_in(settings: Settings) -> str:
    base = settings.staff_public_url
    uri = totp_uri(DEMO_TOTP_SECRET, account=DEMO_LOGIN, issuer="ESG ledger (dev)")
    return "\n".join(
        [
            "DEVELOPMENT demo staff account, holding every role (never in production):",
            f"  login {DEMO_LOGIN}, password {DEMO_PASSWORD}, TOTP secret {DEMO_TOTP_SECRET}",
            f"  authenticator app: {uri}",
            f"  in the browser: {base}/dashboard (the login, the password and the app's 6-digit code)",
            "  sign in (a TOTP code is accepted once; for another sign-in wait for the next code):",
            f"    code=$(.venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\")",  # noqa: E501
            f"    curl -s -c cookies.txt {base}/v1/staff/login -H 'content-type: application/json' \\",
            f'      -d \'{{"login": "{DEMO_LOGIN}", "password": "{DEMO_PASSWORD}", "totp": "\'$code\'"}}\'',
            f'    then: curl -s {base}/v1/staff/me -H "authorization: Bearer <token from the answer>"',
        ]
    )


def _grant_auditor(settings: Settings, deployment: Deployment) -> None:
    try:
        w3 = Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 60}))
        deployer = settings.deployer()
        sender = AdminSender(w3, deployer, deployment.chain_id)
        for name, role in ROLE_GRANTS["auditor"]:
            contract = deployment.contracts.get(name)
            if contract is None:
                continue
            handle: Any = w3.eth.contract(
                address=Web3.to_checksum_address(contract.address), abi=contract.abi
            )
            if not handle.functions.hasRole(bytes.fromhex(role[2:]), deployer.address).call():
                sender.transact(contract, "grantRole", bytes.fromhex(role[2:]), deployer.address)
        sender.settle()
    except Exception as exc:  # a development convenience: the demo account works without it, minus auditor
        log.warning("demo staff: could not grant AUDITOR_ROLE to the deployer: %s", exc.__class__.__name__)
