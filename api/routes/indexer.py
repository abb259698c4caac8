from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from ..deps import ServicesDep
from ..schemas import IndexerStatusResponse

router = APIRouter(prefix="/v1/indexer", tags=["operations"])


def indexer_status(services: ServicesDep) -> dict[str, Any]:
    head = int(services.rpc.call("eth_blockNumber"), 16)
    cursor = services.indexer.cursor()
    status = services.indexer.status
    return {
        "chainId": services.deployment.chain_id,
        "head": head,
        "indexed": cursor[0] if cursor else None,
        "finalized": max(head - services.settings.finality_depth, 0),
        "lag": head - cursor[0] if cursor else None,
        "lastSyncAt": status.last_sync_at,
        "headUnchangedSeconds": round(time.time() - status.head_changed_at, 1),
        "reorgs": status.reorgs,
        "nodeBehind": status.node_behind,
        "error": services.last_errors.get("indexer"),
    }


@router.get("/status", response_model=IndexerStatusResponse)
def status(services: ServicesDep) -> dict[str, Any]:
    """The node's head, the mirror's cursor, the finalized block and the lag between them."""
    return indexer_status(services)
