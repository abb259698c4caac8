"""The FastAPI application: `create_app(settings)`; `uvicorn api.app:app` uses the environment's settings."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ledger.chain.rpc import display_url
from ledger.settings import Settings, get_settings

from . import errors, metrics, openapi
from .edge import edge
from .fastpath import SubmitFastPath
from .limits import BodyLimit
from .readpath import ReadFastPath
from .routes import (  # partners  # enrolment, residents' own sign-in
    actions,
    bonus,
    campaigns,
    causes,
    custody,
    deployment,
    enrolments,
    feedback,
    health,
    indexer,
    pages,
    partner_desk,
    partners,
    platforms,  # metaverse platforms
    plogging,
    redemption_requests,
    resident_auth,
    residents,
    staff_actions,
    staff_audit,
    staff_auth,
    staff_bonus,
    staff_campaigns,
    staff_desk,
    staff_directory,
    staff_enrolment,
    staff_feedback,
    staff_log,
    staff_members,
    staff_partner_keys,
    staff_policy,
    staff_privacy,
    staff_verification,
    stats,
)
from .services import Services

log = logging.getLogger(__name__)
_RECURSION_LIMIT = 2_000


def create_app(settings: Settings | None = None, *, run_jobs: bool = True) -> FastAPI:
    settings = settings or get_settings()
    # py_ecc (imported through eth-account) raises the recursion limit to 100,000 for itself; at that
    # depth the JSON decoder behind a request body overflows the C stack on deeply nested input and
    # the process dies. At Python's usual depth it raises instead, and the client gets a 400.
    sys.setrecursionlimit(_RECURSION_LIMIT)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.start(settings, run_jobs=run_jobs)
        app.state.services = services
        log.info(
            "serving chain %d (%s), contracts %s",
            services.deployment.chain_id,
            display_url(services.settings.rpc),
            {n: c.address for n, c in services.deployment.contracts.items()},
        )
        try:
            yield
        finally:
            services.stop()

    app = FastAPI(
        title="ESG participation ledger",
        version="0.1.0",
        description="Residents' signed ESG actions, relayed to the chain and mirrored into SQL.",
        lifespan=lifespan,
    )
    errors.install(app)
    openapi.install(app)  # the document completed in one place: problem+json, 429, …
    app.add_middleware(SubmitFastPath)  # POST /v1/actions, served lean; everything else as routed
    if settings.read_fastpath:  # the three hottest reads, served lean; the routes define them
        app.add_middleware(ReadFastPath)
    # A body over the limit is refused before the fast path or any route reads it.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    edge(app, settings)  # rate limits, CORS, metrics, access log, request id: around everything
    app.include_router(resident_auth.router)  # before residents: /v1/residents/me is not an address
    reads = (residents, feedback, partners, causes, campaigns, bonus, plogging, stats, indexer, enrolments)
    for module in (health, deployment, actions, custody, *reads, pages):
        app.include_router(module.router)
    app.include_router(metrics.router)
    app.include_router(staff_auth.router)
    app.include_router(staff_actions.router)
    workflows = (staff_verification, staff_feedback, staff_campaigns, staff_directory, staff_policy)
    staff_more = (staff_bonus, staff_enrolment, staff_log, staff_members, staff_audit, staff_privacy)
    for module in (*workflows, *staff_more, staff_desk):  # staff_desk: acting for a resident at a desk
        app.include_router(module.router)
    for module in (redemption_requests, partner_desk, staff_partner_keys):  # the partner journey
        app.include_router(module.router)
    app.include_router(platforms.router)  # metaverse platforms: signed webhooks
    return app


def app() -> FastAPI:
    """Factory for `uvicorn --factory api.app:app`."""
    return create_app()


def api_only() -> FastAPI:
    """Factory for the worker processes of `esg-ledger serve` with ESG_API_WORKERS > 1: HTTP only,
    the relayer and indexer jobs run in the serving process itself."""
    settings = get_settings()
    if settings.api_worker_nice:
        # Intake must not starve the relayer: an action accepted faster than it can be relayed
        # only waits longer in the queue. A lower CPU priority for HTTP is backpressure by scheduling.
        os.nice(settings.api_worker_nice)
    return create_app(settings, run_jobs=False)
