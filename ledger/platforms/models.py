"""The platform registry's rows: a platform (hashed token, sealed webhook secret, sealed enroller key,
allowed kinds) and the webhook deliveries it sent (the idempotency record of each event id)."""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

# Slugs: lower-case letters, digits and hyphens. No ":" (it separates a platform from its user id in
# a custodial subject) and nothing that needs escaping in a URL path.
PLATFORM_ID_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"
# A platform's own id for its user: printable, no control characters, no whitespace.
USER_ID_PATTERN = r"^[!-~]{1,96}$"
EVENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
LEGACY_PLATFORM_ID = "default"
# The service desk (ledger/desk.py) holds the wallets of residents it acts for under this reserved id:
# no platform may be registered as it, so no platform token reaches those wallets.
DESK_PLATFORM_ID = "desk"


class Platform(SQLModel, table=True):
    """A metaverse or app that authenticates residents and acts for them (docs/api.md "Platforms")."""

    __tablename__ = "platform"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=120)
    token_hash: str = Field(max_length=64, unique=True)  # SHA-256 of the API token, hex
    # The webhook secret, sealed by the custody KeyEncrypter (HMAC needs the secret itself).
    secret_ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str = Field(max_length=64)
    kinds: str = Field(max_length=400)  # the action kinds it may submit, comma-separated
    # The platform's own enroller key (ledger/platforms/enroller.py), sealed like the secret, and its
    # address (the one to grant ENROLLER_ROLE). None only for platforms added before revision 0015.
    enroller_ciphertext: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    enroller_address: str | None = Field(default=None, max_length=42)
    active: bool = True
    created_at: float
    rotated_at: float | None = None
    revoked_at: float | None = None

    @property
    def allowed_kinds(self) -> frozenset[str]:
        return frozenset(k for k in self.kinds.split(",") if k)


class WebhookDelivery(SQLModel, table=True):
    """One event id a platform delivered: claimed before its actions run, its answer kept for retries."""

    __tablename__ = "webhook_delivery"

    platform_id: str = Field(primary_key=True, max_length=32)
    event_id: str = Field(primary_key=True, max_length=128)
    body_hash: str = Field(max_length=64)  # SHA-256 of the raw body: a different body is a conflict
    status_code: int | None = None  # None while the first delivery is still being processed
    result: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: float
    finished_at: float | None = None
