"""Provisioning: a platform's user becomes a custodial resident on first use, vouched for by it.

A webhook names users by the platform's own id; the custodial subject is `"<platform>:<user id>"`,
so two platforms' user 42 are two residents, and the same subject works in `/v1/custody/*`. The
first time a platform provisions a resident, it vouches for them (`vouch_for`): the hook where
enrolment (ledger/enrolment.py, "a resident earns only once an accountable party enrolled them")
records the platform as the enrolling party.
"""

from __future__ import annotations

import logging
import time

from sqlmodel import Session, select

from ..custody import SUBJECT_SEPARATOR, KeyEncrypter, create_wallet
from ..models import CustodialWallet
from ..types import Address
from .models import LEGACY_PLATFORM_ID, Platform
from .registry import PlatformIdentity

log = logging.getLogger(__name__)


def subject_for(platform_id: str, user_id: str) -> str:
    return f"{platform_id}{SUBJECT_SEPARATOR}{user_id}"


def vouch_for(*, session: Session, platform_id: str, subject: str, resident: Address, now: float) -> None:
    """The platform `platform_id` vouches for the resident it just provisioned (wallet `resident`).

    Runs in the provisioning transaction, before it commits: an enrolment written here is atomic
    with the wallet, and raising refuses the provisioning. This is the one place to wire
    `ledger.enrolment` in; until then a vouch is logged only (ids, never a key)."""
    log.info("platform %s vouches for %s (%s)", platform_id, subject, resident)


def known_platform_ids(session: Session) -> frozenset[str]:
    return frozenset(session.exec(select(Platform.id)).all()) | {LEGACY_PLATFORM_ID}


def provision(
    *, session: Session, platform: PlatformIdentity, subject: str, keys: KeyEncrypter
) -> tuple[CustodialWallet, bool]:
    """(the subject's custodial wallet, created now?); a new one is vouched for and committed."""
    wallet, created = create_wallet(
        session=session,
        subject=subject,
        platform_id=platform.id,
        keys=keys,
        known_platforms=known_platform_ids(session),
    )
    if created:
        vouch_for(
            session=session,
            platform_id=platform.id,
            subject=subject,
            resident=Address(wallet.address),
            now=time.time(),
        )
        session.commit()
    return wallet, created
