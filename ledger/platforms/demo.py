"""The development demo platform, with published credentials, so docs/api.md's platform journey runs
as printed against `scripts/run`. Development only (ESG_ENV=development with ESG_DEMO_DATA on; the
settings refuse demo data in production); its token and secret are in this file on purpose."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from ..custody import custody_keys
from ..db import session_scope
from ..kinds import KINDS
from ..settings import Settings
from .models import Platform
from .registry import add_platform

log = logging.getLogger(__name__)

DEMO_PLATFORM_ID = "demo-metaverse"
DEMO_PLATFORM_TOKEN = "esgp_demo-metaverse-token-for-development-only"  # published: development only
DEMO_WEBHOOK_SECRET = "whsec_demo-metaverse-secret-for-development-only"  # published: development only


def seed_demo_platform(*, settings: Settings, engine: Engine) -> str | None:
    """Registers the demo platform once (every kind allowed); returns how to use it (None outside
    development)."""
    keys = custody_keys(settings)
    if settings.env != "development" or not settings.demo_data or keys is None:
        return None
    with session_scope(engine) as session:
        if session.get(Platform, DEMO_PLATFORM_ID) is None:
            try:
                add_platform(
                    session=session,
                    keys=keys,
                    platform_id=DEMO_PLATFORM_ID,
                    name="데모 메타버스 (Demo metaverse)",
                    kinds=KINDS,
                    token=DEMO_PLATFORM_TOKEN,
                    secret=DEMO_WEBHOOK_SECRET,
                )
            except IntegrityError:  # another worker seeded it meanwhile
                session.rollback()
    text = (
        f"demo platform {DEMO_PLATFORM_ID}: token {DEMO_PLATFORM_TOKEN}, webhook secret "
        f"{DEMO_WEBHOOK_SECRET} (development only; docs/api.md, Platform journey)"
    )
    log.info(text)
    return text
