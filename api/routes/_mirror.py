"""What the mirror's read routes share: paging and address parameters, the errors they document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from ..schemas import ErrorResponse

INT64_MAX = 2**63 - 1  # SQL integers are signed 64-bit: anything larger is refused, never sent to SQL
UINT32_MAX = 2**32 - 1
ADDRESS = r"^0x[0-9a-fA-F]{40}$"

Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="Rows to skip.")]
ResidentQuery = Annotated[
    str | None, Query(pattern=ADDRESS, description="Only this resident's (0x + 40 hex).")
]
AreaCodeQuery = Annotated[
    int | None, Query(alias="areaCode", ge=0, le=UINT32_MAX, description="Only this area (uint32).")
]

INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorResponse,
        "description": "A parameter is malformed or out of range; `field` names it.",
    }
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "No such record."}}
