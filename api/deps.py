"""Annotated dependencies the routes share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from ledger.db import read_scope

from .services import Services


async def get_services(request: Request) -> Services:
    # async: a plain function dependency would be run in the thread pool, a hop per request.
    services: Services = request.app.state.services
    return services


def get_session(services: Annotated[Services, Depends(get_services)]) -> Iterator[Session]:
    with Session(services.engine, expire_on_commit=False) as session:
        yield session


def get_read_session(services: Annotated[Services, Depends(get_services)]) -> Iterator[Session]:
    """For routes that only read: on SQLite a deferred transaction, which never waits for writers."""
    with read_scope(services.engine) as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
