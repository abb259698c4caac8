"""Partner API keys for partner managers: issue (the key is shown once), list, read, revoke
(ledger/partners/keys.py). A key is issued only for a partner registered and unexpired in the mirror."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from indexer.partner_queries import registration
from ledger.partners import SCOPES, get_key, issue_key, key_public, list_keys, revoke_key

from ..deps import ReadSessionDep, ServicesDep, SessionDep
from ..schemas import ErrorResponse
from ._mirror import Limit, Offset
from ._partner import PartnerKeyPublic
from ._staff import ADDRESS, AUTH, PartnerManager

router = APIRouter(prefix="/v1/staff/partner-keys", tags=["staff: partners and causes"])

Scope = Literal["redemptions:accept", "redemptions:read"]  # ledger.partners.SCOPES
KeyIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The key id (16 hex digits).")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such key (`partner_key_not_found`)."}
}
_ISSUE: dict[int | str, dict[str, Any]] = AUTH | {
    422: {
        "model": ErrorResponse,
        "description": "A field is malformed (`invalid_request`), or the address is not a registered, "
        "unexpired partner in the mirror (`partner_not_registered`).",
    }
}
_REVOKE: dict[int | str, dict[str, Any]] = (
    AUTH
    | _NOT_FOUND
    | {409: {"model": ErrorResponse, "description": "Already revoked (`partner_key_conflict`)."}}
)


class IssueKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: str = Field(pattern=ADDRESS, description="The registered partner's address.")
    label: str = Field(
        min_length=1,
        max_length=120,
        pattern=r"^[^\x00-\x1f\x7f-\x9f]+$",
        description="What the key is for: a shop's till, its accounting.",
        examples=["Counter 1"],
    )
    scopes: list[Scope] = Field(
        default_factory=lambda: list(SCOPES),  # type: ignore[arg-type]
        min_length=1,
        max_length=len(SCOPES),
        json_schema_extra={"uniqueItems": True},
        description="What the key may do; every scope by default.",
    )


class IssuedKeyResponse(BaseModel):
    key: PartnerKeyPublic
    secret: str = Field(
        description="The API key itself, for the X-Partner-Key header. Shown once: it is not stored.",
        examples=["esgp_3f9a0c1d2e4b5a69_" + "x" * 43],
    )


class PartnerKeyPage(BaseModel):
    items: list[PartnerKeyPublic]
    total: int


@router.post("", status_code=201, response_model=IssuedKeyResponse, responses=_ISSUE)
def issue(body: IssueKeyBody, principal: PartnerManager, services: ServicesDep, session: SessionDep) -> Any:
    """Issues an API key for a registered partner; the key is in this answer only."""
    chain_id = services.deployment.chain_id
    until = registration(session.connection(), chain_id=chain_id, partner=body.partner)
    issued = issue_key(
        session=session,
        chain_id=chain_id,
        partner=body.partner,
        label=body.label,
        scopes=body.scopes,
        registered_until=until,
        created_by=principal.address,
        now=time.time(),
    )
    session.commit()
    return {"key": key_public(issued.key), "secret": issued.secret}


@router.get("", response_model=PartnerKeyPage, responses=AUTH)
def keys(
    principal: PartnerManager,
    services: ServicesDep,
    session: ReadSessionDep,
    partner: Annotated[str | None, Query(pattern=ADDRESS, description="Only this partner's keys.")] = None,
    revoked: Annotated[bool | None, Query(description="Only revoked keys (true), or active ones.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Partner API keys, newest first: never their secrets."""
    rows, total = list_keys(
        session=session,
        chain_id=services.deployment.chain_id,
        partner=partner,
        revoked=revoked,
        limit=limit,
        offset=offset,
    )
    return {"items": [key_public(k) for k in rows], "total": total}


@router.get("/{key_id}", response_model=PartnerKeyPublic, responses=AUTH | _NOT_FOUND)
def key(key_id: KeyIdPath, principal: PartnerManager, session: ReadSessionDep) -> dict[str, Any]:
    """One partner API key."""
    return key_public(get_key(session=session, key_id=key_id))


@router.post("/{key_id}/revoke", response_model=PartnerKeyPublic, responses=_REVOKE)
def revoke(key_id: KeyIdPath, principal: PartnerManager, session: SessionDep) -> dict[str, Any]:
    """Revokes a partner API key: every request with it is refused (401) from now on."""
    row = revoke_key(session=session, key_id=key_id, by=principal.address, now=time.time())
    session.commit()
    return key_public(row)
