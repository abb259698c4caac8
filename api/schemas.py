"""Request and response bodies of the public API (the interface contract in docs/api.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class PrepareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="The action kind: `plogging`.")
    resident: str = Field(description="The resident's address (0x…).")
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
    error: str | None


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


class HealthResponse(BaseModel):
    status: str
    chainId: int | None = None
    head: int | None = None
    indexed: int | None = None
    database: str
    problems: list[str] = Field(default_factory=list)
    alarms: list[str] = Field(
        default_factory=list,
        description="Needs attention but still serving: low relayer balance, stuck fees.",
    )


class WalletRequest(BaseModel):
    subject: str = Field(min_length=1, max_length=128, description="The platform's id for the resident.")


class WalletResponse(BaseModel):
    subject: str
    address: str
    exported: bool


class CustodialActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=128)
    kind: str
    payload: dict[str, Any]


class ExportRequest(BaseModel):
    password: SecretStr = Field(min_length=12, description="Encrypts the exported keystore; never stored.")


class ExportResponse(BaseModel):
    subject: str
    address: str
    keystore: dict[str, Any] = Field(description="Web3 Secret Storage (v3) JSON, importable by wallets.")
