"""What the partner routes share: the partner API key dependency (the `PartnerKey` security scheme),
the public shape of a key, the deployment as the desk sees it, and the errors they document."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from ledger.chain.revert import ErrorDecoder
from ledger.db import read_scope, session_scope
from ledger.partners import (
    HEADER,
    SCOPES,
    DeskChain,
    authenticate,
    key_public,
    needs_touch,
    require_scope,
    touch_key,
)
from ledger.types import Address

from ..deps import ServicesDep
from ..schemas import ErrorResponse
from ..services import Services

__all__ = ["KEY_AUTH", "PartnerKeyPublic", "PartnerPrincipal", "desk_chain", "require_partner"]

partner_key_header = APIKeyHeader(
    name=HEADER,
    scheme_name="PartnerKey",
    description="A partner API key, `esgp_<key id>_<secret>`, issued by a partner manager "
    "(POST /v1/staff/partner-keys or `esg-ledger partner key issue`); shown once at issue.",
    auto_error=False,
)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


KEY_AUTH: dict[int | str, dict[str, Any]] = {
    401: _error(
        "No X-Partner-Key header (`not_authenticated`), a malformed or unknown key "
        "(`partner_key_invalid`), or a revoked one (`partner_key_revoked`)."
    ),
    403: _error("The key lacks the scope this needs (`insufficient_scope`)."),
    422: _error("A parameter or body field is malformed or out of range; `field` names it."),
}


class PartnerKeyPublic(BaseModel):
    """A partner API key as it is shown after issue: never its secret."""

    id: str = Field(description="The key id, the part after `esgp_`.", examples=["3f9a0c1d2e4b5a69"])
    partner: str = Field(description="The partner's address.")
    label: str
    scopes: list[str] = Field(json_schema_extra={"items": {"enum": list(SCOPES)}})
    createdAt: float = Field(description="Unix seconds.")
    createdBy: str = Field(description="The issuing staff member's address, or `cli`.")
    lastUsedAt: float | None = Field(description="Unix seconds, to the minute; null if never used.")
    revokedAt: float | None
    revokedBy: str | None
    active: bool = Field(description="Not revoked.")


@dataclass(frozen=True)
class PartnerPrincipal:
    """The partner a request's key belongs to."""

    key_id: str
    partner: Address
    scopes: tuple[str, ...]
    public: dict[str, Any]


def require_partner(scope: str | None = None) -> Any:
    """A dependency: the partner whose valid, unrevoked key the request carries (holding `scope`)."""

    def partner(
        services: ServicesDep, presented: Annotated[str | None, Security(partner_key_header)] = None
    ) -> PartnerPrincipal:
        now = time.time()
        with read_scope(services.engine) as session:
            key = authenticate(session=session, presented=presented, chain_id=services.deployment.chain_id)
            if scope is not None:
                require_scope(key, scope)
            principal = PartnerPrincipal(
                key_id=key.id,
                partner=Address(key.partner),
                scopes=tuple(key.scopes.split()),
                public=key_public(key),
            )
            stale = needs_touch(key, now)
        if stale:
            with session_scope(services.engine) as session:
                touch_key(session=session, key_id=principal.key_id, now=now)
        return principal

    return partner


AnyPartner = Annotated[PartnerPrincipal, Depends(require_partner())]

_CHAINS: dict[int, DeskChain] = {}


def desk_chain(services: Services) -> DeskChain:
    """The deployment as the desk checks requests against it (one per deployment: the error
    decoder reads every contract's ABI)."""
    chain = _CHAINS.get(id(services.deployment))
    if chain is None or chain.rpc is not services.rpc:
        chain = _CHAINS[id(services.deployment)] = DeskChain(
            rpc=services.rpc,
            chain_id=services.deployment.chain_id,
            contracts=services.contract_addresses,
            decoder=ErrorDecoder([c.abi for c in services.deployment.contracts.values()]),
            erc1271=services.erc1271_valid,
        )
    return chain
