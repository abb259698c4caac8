"""Request and response models of the platform routes: custody (`/v1/custody/*`) and webhooks
(`/v1/platforms/*`). The webhook body itself is `ledger.platforms.WebhookEvent` (the library
parses it, after the signature): `webhook_body_schema` puts it in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ledger.kinds import KINDS
from ledger.platforms import PLATFORM_ID_PATTERN, WebhookEvent

# A platform's id for a resident: printable text, no control characters (PostgreSQL text cannot
# hold NUL, and an id is shown in logs and exports). "<platformId>:<userId>" for webhook users.
SUBJECT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$"
_KIND_PATTERN = r"^[a-z]{1,32}$"


def _subject() -> Any:
    return Field(
        min_length=1,
        max_length=128,
        pattern=SUBJECT_PATTERN,
        description='The platform\'s id for the resident; a webhook user is "<platformId>:<userId>".',
        examples=["citizen-7", "metaseoul:user-1842"],
    )


class WalletRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = _subject()


class WalletResponse(BaseModel):
    subject: str
    address: str = Field(
        pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"]
    )
    platform: str = Field(description="The platform that holds the wallet (and alone may use it).")
    exported: bool = Field(description="The resident took the key (self-custody); the city holds no copy.")


class CustodialActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = _subject()
    kind: str = Field(pattern=_KIND_PATTERN, description=f"One of {sorted(KINDS)}.", examples=["plogging"])
    payload: dict[str, Any] = Field(description="The kind's payload, as for /v1/actions/prepare.")
    submit: bool = Field(
        default=True,
        description="false: sign only and answer 200 with the signed action (e.g. a redemption shown "
        "as a QR code for a partner to submit); nothing is queued.",
    )


class SignedActionResponse(BaseModel):
    """What `submit: false` answers: the action signed by the custodial key, ready for POST /v1/actions."""

    id: str = Field(pattern=r"^0x[0-9a-f]{64}$", description="The action's EIP-712 digest.")
    typedData: dict[str, Any] = Field(description="A complete eth_signTypedData_v4 object.")
    signature: str = Field(pattern=r"^0x[0-9a-f]{130}$")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: SecretStr = Field(
        min_length=12, max_length=1024, description="Encrypts the exported keystore; never stored."
    )


class ExportResponse(BaseModel):
    subject: str
    address: str
    keystore: dict[str, Any] = Field(description="Web3 Secret Storage (v3) JSON, importable by wallets.")


class PlatformPublic(BaseModel):
    id: str = Field(pattern=PLATFORM_ID_PATTERN, examples=["metaseoul"])
    name: str
    kinds: list[str] = Field(description="The action kinds the platform may submit.")
    enroller: str | None = Field(
        default=None,
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="The platform's own enroller address: it enrols the residents the platform "
        "provisions (null: none, a platform added before enroller keys or the legacy tokens).",
    )
    enrollerRole: bool = Field(
        default=False, description="The enroller address holds ENROLLER_ROLE on EnrolmentRegistry now."
    )
    party: str = Field(
        description="The party code its enrolments record on chain.", examples=["platform:metaseoul"]
    )


class EntryError(BaseModel):
    code: str = Field(examples=["kind_not_allowed", "invalid_action", "rate_limited"])
    message: str
    field: str | None = Field(default=None, description='Where, e.g. "actions.1.payload.trashGrams".')


class WebhookActionResult(BaseModel):
    """One action of the delivery, in order: accepted (`id`, `status`) or refused (`error`)."""

    userId: str
    resident: str | None = Field(default=None, description="The user's custodial address, once provisioned.")
    id: str | None = Field(default=None, description="The accepted action's id (GET /v1/actions/{id}).")
    status: str | None = Field(default=None, examples=["queued"])
    error: EntryError | None = None


class WebhookResponse(BaseModel):
    id: str = Field(description="The event id; a redelivery of it gets this same answer.")
    results: list[WebhookActionResult]


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def webhook_body_schema() -> dict[str, Any]:
    """`WebhookEvent`'s JSON Schema with its definitions inlined (the route reads the raw body)."""
    schema = WebhookEvent.model_json_schema()
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    return inlined
