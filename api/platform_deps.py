"""The platform routes' dependencies: who a request is from (`Authorization: Bearer <platform
token>`, a declared security scheme, so the OpenAPI document shows it; checked against the
registry, which keeps hashes only), the custody key encrypter and the deployment custody signs
for. Without a master key custody answers 503."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.custody import ActingContext, KeyEncrypter, custody_keys
from ledger.errors import CustodyUnavailableError
from ledger.platforms import PlatformIdentity, authenticate

from .deps import ServicesDep, SessionDep

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
    )


Acting = Annotated[ActingContext, Depends(acting_context)]
