"""The admin log for auditors and admins: every role change, policy change, verification decision,
review step, moderation, campaign and directory change, as mirrored from the chain; and its CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from indexer import staff_queries
from ledger.chain.admin import ADMIN_ACTIONS

from ..deps import ReadSessionDep, ServicesDep
from ..services import Services
from ._mirror import INT64_MAX, Limit, Offset
from ._staff import ADDRESS, AUTH, Auditor

router = APIRouter(prefix="/v1/staff/log", tags=["staff: admin log"])

CSV_COLUMNS = (
    "blockNumber",
    "logIndex",
    "txHash",
    "contractName",
    "contract",
    "action",
    "actor",
    "subject",
    "details",
)


class AdminLogEntry(BaseModel):
    contract: str = Field(description="The emitting contract's address.")
    contractName: str | None = Field(description="Its name in this deployment.")
    action: str = Field(description="The event's name.")
    actor: str = Field(description="Who did it: the staff member's own address.")
    subject: str | None = Field(description="What it was done to: a digest, item id, address, …")
    details: dict[str, Any] = Field(description="The event's fields (and roleName for role changes).")
    blockNumber: int
    logIndex: int
    txHash: str


class AdminLogPage(BaseModel):
    items: list[AdminLogEntry]
    total: int


class Filters:
    """The admin log's filters: who, what, on which contract, when (a block range)."""

    def __init__(
        self,
        actor: Annotated[str | None, Query(pattern=ADDRESS, description="Who: the actor's address.")] = None,
        action: Annotated[
            str | None,
            Query(description="What: an event name.", json_schema_extra={"enum": sorted(ADMIN_ACTIONS)}),
        ] = None,
        contract: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=42,
                pattern=r"^[0-9A-Za-z]+$",
                description="A contract's name or address.",
            ),
        ] = None,
        subject: Annotated[
            str | None,
            Query(min_length=1, max_length=66, pattern=r"^[0-9A-Za-z]+$", description="The subject."),
        ] = None,
        from_block: Annotated[
            int | None, Query(alias="fromBlock", ge=0, le=INT64_MAX, description="From this block.")
        ] = None,
        to_block: Annotated[
            int | None, Query(alias="toBlock", ge=0, le=INT64_MAX, description="Up to this block.")
        ] = None,
    ) -> None:
        if action is not None and action not in ADMIN_ACTIONS:
            raise HTTPException(422, f"unknown action {action!r}")
        self.actor, self.action, self.subject = actor, action, subject
        self.contract, self.from_block, self.to_block = contract, from_block, to_block

    def query(self, services: Services) -> dict[str, Any]:
        contract = self.contract
        if contract is not None and not contract.startswith("0x"):
            if contract not in services.deployment.contracts:
                raise HTTPException(422, f"no contract {contract!r} in this deployment")
            contract = services.deployment.contracts[contract].address
        return {
            "chain_id": services.deployment.chain_id,
            "contract_names": {c.address: n for n, c in services.deployment.contracts.items()},
            "actor": self.actor,
            "action": self.action,
            "contract": contract,
            "subject": self.subject,
            "from_block": self.from_block,
            "to_block": self.to_block,
        }


FiltersDep = Annotated[Filters, Depends()]


@router.get("", response_model=AdminLogPage, responses=AUTH)
def admin_log(
    _principal: Auditor,
    services: ServicesDep,
    session: ReadSessionDep,
    filters: FiltersDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Admin actions, newest first, filtered by who, what, contract and block range."""
    return staff_queries.admin_log(
        session.connection(), **filters.query(services), limit=limit, offset=offset
    )


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        row = row | {"details": json.dumps(row["details"], sort_keys=True, separators=(",", ":"))}
        writer.writerow([row[c] if row[c] is not None else "" for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@router.get(
    ".csv",
    response_class=StreamingResponse,
    responses={
        **AUTH,
        200: {
            "description": "The admin log as CSV, oldest first (at most 100,000 rows); columns: "
            + ", ".join(CSV_COLUMNS),
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
def admin_log_csv(
    _principal: Auditor,
    services: ServicesDep,
    session: ReadSessionDep,
    filters: FiltersDep,
) -> StreamingResponse:
    """The filtered admin log as a CSV export."""
    rows = list(staff_queries.admin_log_rows(session.connection(), **filters.query(services)))
    return StreamingResponse(
        _csv(iter(rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="admin-log.csv"'},
    )
