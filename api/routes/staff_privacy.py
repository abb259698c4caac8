"""Privacy erasure for the auditor (or admin): a resident's personal data removed from SQL with every
hash kept (ledger/privacy.py), and the erasure log. Auditors, not the roles whose work the erased data
documents (reviewers, moderators), carry out erasures: the request is a compliance decision, it
changes nothing on chain, and the auditor's own checks (reconcile, exports) show it broke nothing."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from ledger.errors import PrivacyError
from ledger.privacy import ERASED_TABLES, erase_resident, erasures

from ..deps import ReadSessionDep, SessionDep
from ._mirror import Limit, Offset
from ._staff import ADDRESS, AUTH, Auditor

router = APIRouter(prefix="/v1/staff/privacy", tags=["staff: audit"])


class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident: str = Field(pattern=ADDRESS, description="The resident's address.")


class ErasurePublic(BaseModel):
    id: int
    resident: str
    erasedBy: str = Field(description="`staff:<address>` of the member who erased, or `cli:<operator>`.")
    erasedAt: float = Field(description="Unix seconds.")
    counts: dict[str, int] = Field(description="Rows changed per table: " + ", ".join(ERASED_TABLES) + ".")


class ErasurePage(BaseModel):
    items: list[ErasurePublic]


@router.post("/erasures", response_model=ErasurePublic, status_code=201, responses=AUTH)
def erase(body: EraseRequest, principal: Auditor, session: SessionDep) -> dict[str, Any]:
    """Erases a resident's personal data from SQL (hashes kept) and logs the erasure."""
    try:
        erasure = erase_resident(
            session=session, resident=body.resident, erased_by=f"staff:{principal.address}", now=time.time()
        )
    except PrivacyError as exc:  # e.g. mixed case that is not the address's EIP-55 checksum
        loc = ("body", exc.field or "resident")
        raise RequestValidationError([{"type": "value_error", "loc": loc, "msg": exc.message}]) from None
    session.commit()
    return erasure.as_json()


@router.get("/erasures", response_model=ErasurePage, responses=AUTH)
def erasure_log(
    _principal: Auditor,
    session: ReadSessionDep,
    resident: Annotated[str | None, Query(pattern=ADDRESS, description="Only this resident's.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The erasure log, newest first (who, when, which resident, rows changed; never the data)."""
    rows = erasures(session=session, resident=resident, limit=limit, offset=offset)
    return {"items": [e.as_json() for e in rows]}
