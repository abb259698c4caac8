"""Request and response bodies of the public API (the interface contract in docs/api.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ledger.kinds import KINDS


class PrepareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        description="The action kind; each takes its own payload (docs/api.md).",
        json_schema_extra={"enum": list(sorted(KINDS))},
    )
    resident: str = Field(
        description="The resident's address: 0x and 40 hex digits.", pattern=r"^0x[0-9a-fA-F]{40}$"
    )
    payload: dict[str, Any] = Field(description="The kind's fields, see docs/api.md.")


class PrepareResponse(BaseModel):
    typedData: dict[str, Any] = Field(description="A complete eth_signTypedData_v4 object.")


class SubmitRequest(BaseModel):
    typedData: dict[str, Any]
    signature: str


class SubmitResponse(BaseModel):
    id: str = Field(description="The action's EIP-712 digest.")
    status: str


class BatchSubmitRequest(BaseModel):
    actions: list[SubmitRequest] = Field(min_length=1, max_length=1000)


class BatchSubmitResponse(BaseModel):
    results: list[dict[str, Any]] = Field(
        description="In request order: {id, status} for each accepted action, {error} for each refused one."
    )


class ContractInfo(BaseModel):
    address: str
    abi: list[dict[str, Any]]


class DeploymentResponse(BaseModel):
    chainId: int
    contracts: dict[str, ContractInfo]
    startBlock: int


class PloggingTotals(BaseModel):
    sessions: int
    trashGrams: int
    distanceMeters: int


class ResidentResponse(BaseModel):
    address: str
    balance: int
    plogging: PloggingTotals
    actions: dict[str, int] = Field(description="This resident's actions in the outbox, by status.")


class IndexerStatusResponse(BaseModel):
    chainId: int
    head: int
    indexed: int | None
    finalized: int
    lag: int | None = Field(description="Blocks between the node's head and the mirror's cursor.")
    lastSyncAt: float | None
    headUnchangedSeconds: float
    reorgs: int
    nodeBehind: bool = Field(
        default=False,
        description="The node's head is below the mirror's cursor: a lagging node, not trusted.",
    )
    error: str | None = Field(
        description="The indexer job's latest failure as a stable code (reorg_too_deep, decode_error, "
        "node_unreachable, indexer_failed, …), or null; its text is in the server's log."
    )


class PloggingSessionPublic(BaseModel):
    id: str = Field(description="The session's EIP-712 digest (the action id).")
    resident: str
    distanceMeters: int
    durationSeconds: int
    trashGrams: int
    areaCode: int
    startedAt: int
    evidenceHash: str
    reward: int
    status: str = Field(description="pending, accepted, rejected or revoked")
    txHash: str
    blockNumber: int
    logIndex: int


class StatsResponse(BaseModel):
    chainId: int
    residents: int
    plogging: PloggingTotals
    pointsMinted: int
    actions: dict[str, int]


class HealthCheck(BaseModel):
    status: Literal["ok", "degraded", "down"]
    code: str = Field(
        description="ok, or a stable code (docs/operations.md, Health): database_unavailable, "
        "node_unreachable, jobs_stale, indexer_lagging, relayer_balance_low, …",
        examples=["ok", "indexer_lagging"],
    )


class HealthResponse(BaseModel):
    """The worst check decides: ok and degraded answer 200, down 503."""

    status: Literal["ok", "degraded", "down"]
    checks: dict[str, HealthCheck] = Field(
        description="database, jobs, chain, indexer, relayer: each with its status and code."
    )
    chainId: int | None = None
    head: int | None = Field(default=None, description="The node's head as the background jobs last saw it.")
    indexed: int | None = Field(default=None, description="The mirror's cursor as the jobs last saw it.")


# A platform's id for a resident: printable text, no control characters (PostgreSQL text cannot
# hold NUL, and an id is shown in logs and exports).
SUBJECT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$"


def _subject(description: str = "The platform's id for the resident.") -> Any:
    return Field(min_length=1, max_length=128, pattern=SUBJECT_PATTERN, description=description)


class WalletRequest(BaseModel):
    subject: str = _subject()


class WalletResponse(BaseModel):
    subject: str
    address: str
    exported: bool


class CustodialActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = _subject()
    kind: str
    payload: dict[str, Any]


class ExportRequest(BaseModel):
    password: SecretStr = Field(min_length=12, description="Encrypts the exported keystore; never stored.")


class ExportResponse(BaseModel):
    subject: str
    address: str
    keystore: dict[str, Any] = Field(description="Web3 Secret Storage (v3) JSON, importable by wallets.")


# --- Public reads (indexer/queries.py): mirror records, with their off-chain text and profiles.


class ProblemError(BaseModel):
    field: str | None = Field(
        description="Dotted path of the input at fault (body fields bare, others "
        "prefixed: `query.limit`, `path.address`)."
    )
    rule: str = Field(
        description="The rule it broke: pydantic's error type, e.g. `string_pattern_mismatch`, "
        "`missing`, `greater_than_equal`, `extra_forbidden`."
    )
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, served as application/problem+json for every error (docs/api.md)."""

    type: str = Field(
        description="https://esg-ledger.dev/problems/<code>: one URI per code.",
        examples=["https://esg-ledger.dev/problems/invalid_request"],
    )
    title: str = Field(description="The HTTP status's phrase.", examples=["Unprocessable Entity"])
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str = Field(description="What is wrong, for a person.")
    instance: str | None = Field(description="The request path.", examples=["/v1/actions/prepare"])
    code: str = Field(
        description="The stable machine code: invalid_request, invalid_action, invalid_signature, "
        "malformed_json, not_found, not_authenticated, forbidden, rate_limited, payload_too_large, …"
    )
    field: str | None = Field(description="The input at fault (dotted path), or null.")
    errors: list[ProblemError] | None = Field(
        default=None, description="Validation failures (code invalid_request): every field and rule."
    )
    requestId: str | None = Field(default=None, description="The request id in the server's log, if known.")


ErrorDetail = ProblemError  # the names routes imported before problem details; same document now
ErrorResponse = Problem


class LogPosition(BaseModel):
    blockNumber: int
    logIndex: int
    txHash: str


class FeedbackItemPublic(BaseModel):
    id: int = Field(description="The FeedbackBox item id.")
    digest: str = Field(description="The submission's EIP-712 digest (its action id).")
    resident: str = Field(description="The author.")
    status: str = Field(json_schema_extra={"enum": ["submitted", "under_review", "answered", "closed"]})
    category: str | None = Field(description="The category's name as set on chain; null if never named.")
    categoryId: int
    areaCode: int
    supports: int
    threshold: int = Field(description="Supports that oblige an answer (FeedbackBox settings); 0: none.")
    thresholdReached: bool = Field(description="An answer is obliged (FeedbackAnswerRequired).")
    answerDueAt: int | None = Field(description="Unix seconds, once the threshold is reached.")
    accepted: bool | None = Field(description="The official answer's verdict, once answered.")
    hidden: bool = Field(description="Hidden by moderation.")
    content: str | None = Field(description="The text; null unless contentState is shown.")
    contentState: str = Field(
        description="shown; hidden (by moderation); erased (on request: the hash stays); missing "
        "(not submitted through this ledger).",
        json_schema_extra={"enum": ["shown", "hidden", "erased", "missing"]},
    )
    contentHash: str = Field(description="keccak256(salt ‖ text), as on chain.")
    submittedBlock: int
    submittedTx: str | None
    updatedBlock: int = Field(description="The block of the item's latest event.")


class FeedbackPage(BaseModel):
    items: list[FeedbackItemPublic]
    total: int = Field(description="Items matching the filters, on every page.")


class FeedbackSupporter(LogPosition):
    resident: str
    digest: str


class FeedbackSupporterPage(BaseModel):
    items: list[FeedbackSupporter]
    total: int


class FeedbackReviewer(LogPosition):
    reviewer: str


class FeedbackAnswer(LogPosition):
    accepted: bool
    answerHash: str
    reviewer: str
    reward: int = Field(description="Points minted to the author.")
    text: str | None = Field(description="The answer's text; not kept off-chain yet, so null.")


class FeedbackModeration(LogPosition):
    hidden: bool
    reasonCode: int
    moderator: str


class FeedbackItemDetail(FeedbackItemPublic):
    supporters: FeedbackSupporterPage = Field(
        description="Oldest first; paged by supportsLimit/supportsOffset."
    )
    review: FeedbackReviewer | None
    answer: FeedbackAnswer | None
    closed: FeedbackReviewer | None
    moderation: list[FeedbackModeration] = Field(description="Every hide and show, oldest first.")


class ProfileFields(BaseModel):
    name: str | None = Field(description="From the off-chain directory; null without a profile.")
    description: str | None
    metadataHash: str = Field(description="As on chain: keccak256 of the profile's canonical JSON.")
    profileVerified: bool | None = Field(description="The profile hashes to metadataHash; null without one.")
    demo: bool = Field(description="A development demo record, not a real one.")


class PartnerRecord(BaseModel):
    address: str
    active: bool = Field(description="Registered, not removed, and not expired now.")
    registered: bool = Field(description="False once removed.")
    expiresAt: int = Field(description="Unix seconds.")
    burnOnRedeem: bool = Field(description="Redeemed points are burned (else transferred to the partner).")
    updatedBlock: int


class PartnerPublic(ProfileFields, PartnerRecord):
    """The partner on chain, then its off-chain profile."""


class PartnerPage(BaseModel):
    items: list[PartnerPublic]
    total: int


class CauseRecord(BaseModel):
    id: int
    active: bool
    wallet: str = Field(description="Where donations go.")
    updatedBlock: int


class CausePublic(ProfileFields, CauseRecord):
    """The cause on chain, then its off-chain profile."""


class CausePage(BaseModel):
    items: list[CausePublic]
    total: int


class CampaignRecord(BaseModel):
    id: int
    status: str = Field(json_schema_extra={"enum": ["active", "achieved", "missed", "cancelled"]})
    metric: str = Field(
        json_schema_extra={"enum": ["trash_grams", "distance_meters", "sessions", "accepted_feedback"]}
    )
    areaCode: int = Field(description="0: the whole city.")
    startsAt: int
    endsAt: int
    goal: int
    progress: int = Field(description="As last reported by the ESG team, in the metric's unit.")
    progressPercent: float = Field(description="progress / goal * 100, floored to two decimals.")
    bonusRoot: str | None = Field(description="Merkle root of the bonus distribution; null until set.")
    bonusTotal: int
    bonusClaimed: int
    updatedBlock: int


class CampaignPublic(ProfileFields, CampaignRecord):
    """The campaign on chain, then its off-chain profile."""


class CampaignPage(BaseModel):
    items: list[CampaignPublic]
    total: int


class FeedbackCounts(BaseModel):
    submitted: int
    supported: int = Field(description="Items this resident supported.")


class SupportRecord(LogPosition):
    itemId: int
    digest: str


class RedemptionRecord(LogPosition):
    digest: str
    partner: str
    amount: int
    offerHash: str
    burned: bool


class DonationRecord(LogPosition):
    digest: str
    causeId: int
    wallet: str
    amount: int


class ClaimRecord(LogPosition):
    digest: str
    campaignId: int
    amount: int


class ResidentRecent(BaseModel):
    feedback: list[FeedbackItemPublic]
    supports: list[SupportRecord]
    redemptions: list[RedemptionRecord]
    donations: list[DonationRecord]
    claims: list[ClaimRecord]


class ResidentPublic(ResidentResponse):
    feedback: FeedbackCounts
    redeemed: int = Field(description="Points redeemed at partners, in all.")
    donated: int = Field(description="Points donated to causes, in all.")
    claimed: int = Field(description="Campaign bonus points claimed, in all.")
    recent: ResidentRecent = Field(description="The last 20 of each, newest first.")
