"""The platform routes' dependencies: who a request is from (`Authorization: Bearer <platform
token>`, a declared security scheme, so the OpenAPI document shows it; checked against the
registry, which keeps hashes only), the custody key encrypter, the deployment custody signs for
(with the enrolment policy), and what a platform's vouch for a new resident needs. Without a master
key custody answers 503."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from indexer.staff_roles import staff_roles
from ledger.custody import ActingContext, KeyEncrypter, custody_keys
from ledger.db import read_scope
from ledger.errors import CustodyUnavailableError
from ledger.platforms import Enrolling, PlatformIdentity, authenticate

from .deps import ServicesDep, SessionDep
from .services import Services

platform_bearer = HTTPBearer(
    scheme_name="PlatformBearer",
    description="A platform's API token (`esg-ledger platform add` prints it once).",
    auto_error=False,
)


def custody_encrypter(services: ServicesDep) -> KeyEncrypter:
    keys = custody_keys(services.settings)
    if keys is None:
        raise CustodyUnavailableError("custodial wallets are not configured (ESG_CUSTODY_MASTER_KEY)")
    return keys


def calling_platform(
    services: ServicesDep,
    session: SessionDep,
    _keys: Annotated[KeyEncrypter, Depends(custody_encrypter)],
    auth: Annotated[HTTPAuthorizationCredentials | None, Security(platform_bearer)] = None,
) -> PlatformIdentity:
    legacy = [t.get_secret_value() for t in services.settings.platform_tokens]
    return authenticate(session=session, token=auth.credentials if auth else "", legacy_tokens=legacy)


Keys = Annotated[KeyEncrypter, Depends(custody_encrypter)]
Caller = Annotated[PlatformIdentity, Depends(calling_platform)]


def acting_context(services: ServicesDep) -> ActingContext:
    """The deployment custody signs for, as `ledger.custody.sign_for` needs it."""
    return ActingContext(
        rpc=services.rpc,
        chain_id=services.deployment.chain_id,
        contracts=services.contract_addresses,
        engine=services.engine,
        ttl=services.settings.action_ttl,
        enrolment=services.enrolment,
    )


Acting = Annotated[ActingContext, Depends(acting_context)]


def _holds_enroller_role(services: Services, address: str) -> bool:
    with read_scope(services.engine) as session:
        roles = staff_roles(
            session.connection(),
            chain_id=services.deployment.chain_id,
            contracts=services.contract_addresses,
            account=address,
        )
    return "enroller" in roles


def enrolling(services: ServicesDep) -> Enrolling:
    """What a platform's vouch needs (ledger/platforms/provisioning.py): the deployment, the policy,
    and the mirror's roles, read as staff authorization reads them."""
    return Enrolling(
        engine=services.engine,
        rpc=services.rpc,
        chain_id=services.deployment.chain_id,
        contracts=services.contract_addresses,
        abis={n: c.abi for n, c in services.deployment.contracts.items()},
        policy=services.settings.enrolment_policy,
        ttl=services.settings.action_ttl,
        holds_role=lambda address: _holds_enroller_role(services, address),
    )


Vouching = Annotated[Enrolling, Depends(enrolling)]
