from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from ..deps import ServicesDep
from ..jobstate import job_state
from ..schemas import IndexerStatusResponse

router = APIRouter(prefix="/v1/indexer", tags=["operations"])


def indexer_status(services: ServicesDep) -> dict[str, Any]:
    # The head comes from the node, so that `lag` 0 means the mirror holds everything the chain has
    # now (clients wait on it); the rest is what the jobs recorded, in whichever process they run.
    head = int(services.rpc.call("eth_blockNumber"), 16)
    cursor = services.indexer.cursor()
    state = job_state(services).state()
    run = state.jobs.get("indexer") if state else None
    changed_at = state.head_changed_at if state and state.head_changed_at is not None else time.time()
    return {
        "chainId": services.deployment.chain_id,
        "head": head,
        "indexed": cursor[0] if cursor else None,
        "finalized": max(head - services.settings.finality_depth, 0),
        "lag": head - cursor[0] if cursor else None,
        "lastSyncAt": state.last_sync_at if state else None,
        "headUnchangedSeconds": round(time.time() - changed_at, 1),
        "reorgs": state.reorgs if state else 0,
        "nodeBehind": state.node_behind if state else False,
        "error": run.error if run else None,
    }


@router.get("/status", response_model=IndexerStatusResponse, responses={503: {}})
def status(services: ServicesDep) -> dict[str, Any]:
    """The node's head, the mirror's cursor, the finalized block and the lag between them."""
    return indexer_status(services)
