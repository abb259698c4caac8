"""Deploys the contract suite and keeps a per-chain manifest (`<data>/deployments/<chainId>.json`)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3

from .chain.rpc import HttpRpc, display_url
from .compile import Artifact, compile_contracts
from .errors import ChainError, ChainMismatchError, DeploymentError
from .settings import Settings

log = logging.getLogger(__name__)

# Plausibility bounds and daily caps a new deployment starts with; the ESG team changes them on-chain.
DEFAULT_PLOGGING_BOUNDS = (
    300,  # minDurationSeconds: 5 minutes
    14_400,  # maxDurationSeconds: 4 hours
    50_000,  # maxDistanceMeters
    600,  # maxSpeedCmPerSecond: 21.6 km/h, a fast jog
    20_000,  # maxTrashGrams per session
    7 * 86_400,  # maxAgeSeconds: a session may be submitted up to a week after it started
    50_000,  # maxTrashGramsPerDay
    10,  # maxSessionsPerDay
)
DEFAULT_PLOGGING_REWARD = (10, 5)  # points per km, points per 100 g
# FeedbackBox.Settings: supports that oblige an answer, answer window, submissions and supports per day
DEFAULT_FEEDBACK_SETTINGS = (30, 14 * 86_400, 3, 20)
DEFAULT_FEEDBACK_REWARD = 50  # points when the office accepts a resident's feedback
# The mayor's office's feedback categories (id → name); the API takes the names.
DEFAULT_CATEGORIES = {
    1: "environment",
    2: "transport",
    3: "safety",
    4: "welfare",
    5: "culture",
    6: "administration",
}

ROLE = {
    name: Web3.keccak(text=name)
    for name in (
        "MINTER_ROLE",
        "BURNER_ROLE",
        "MOVER_ROLE",
        "PAUSER_ROLE",
        "RELAYER_ROLE",
        "POLICY_ROLE",
        "VERIFIER_ROLE",
        "REVIEWER_ROLE",
        "MODERATOR_ROLE",
        "CAMPAIGN_ROLE",
        "PARTNER_MANAGER_ROLE",
        "ENROLLER_ROLE",  # service desks and platforms enrol residents (EnrolmentRegistry)
        "AUDITOR_ROLE",  # read-only: no function checks it; grants record who audits (docs/contracts.md)
    )
}


# What `deploy` creates, in order: the forwarder first, since every other contract trusts it.
CONTRACTS = (
    "StaffForwarder",
    "ParticipationToken",
    "PloggingRegistry",
    "FeedbackBox",
    "CommunityRewards",
    "ActionBatcher",
    "EnrolmentRegistry",
)


@dataclass
class DeployedContract:
    address: str
    abi: list[dict[str, Any]]
    tx_hash: str
    block_number: int


@dataclass
class Deployment:
    chain_id: int
    genesis_hash: str
    start_block: int
    deployer: str
    contracts: dict[str, DeployedContract] = field(default_factory=dict)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"the deployment on chain {self.chain_id} has no {name}") from None

    def public(self) -> dict[str, Any]:
        """The interface contract's `/v1/deployment` shape."""
        return {
            "chainId": self.chain_id,
            "contracts": {n: {"address": c.address, "abi": c.abi} for n, c in self.contracts.items()},
            "startBlock": self.start_block,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(self), fh, indent=2)
        os.replace(tmp, path)

    @classmethod
    def from_public(cls, public: dict[str, Any]) -> Deployment:
        """A deployment as `/v1/deployment` publishes it (no genesis hash or transaction hashes)."""
        contracts = {
            n: DeployedContract(
                address=c["address"], abi=c["abi"], tx_hash="", block_number=public["startBlock"]
            )
            for n, c in public["contracts"].items()
        }
        return cls(public["chainId"], "", public["startBlock"], "", contracts)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        raw = json.loads(path.read_text())
        raw["contracts"] = {n: DeployedContract(**c) for n, c in raw["contracts"].items()}
        return cls(**raw)


def manifest_path(settings: Settings, chain_id: int) -> Path:
    return settings.deployments_dir / f"{chain_id}.json"


def chain_identity(rpc: HttpRpc) -> tuple[int, str]:
    chain_id = int(rpc.call("eth_chainId"), 16)
    genesis = rpc.call("eth_getBlockByNumber", ["0x0", False])
    return chain_id, genesis["hash"]


def check_deployment(deployment: Deployment, rpc: HttpRpc) -> None:
    """Raises DeploymentError unless the node is the manifest's chain, the manifest names every
    contract this version deploys, and every contract has code."""
    missing = [name for name in CONTRACTS if name not in deployment.contracts]
    if missing:
        raise DeploymentError(
            f"the deployment on chain {deployment.chain_id} has no {', '.join(missing)}: "
            "it was made by an older version (redeploy with `esg-ledger deploy`)"
        )
    chain_id, genesis = chain_identity(rpc)
    if chain_id != deployment.chain_id:
        raise ChainMismatchError(deployment.chain_id, chain_id)
    if genesis != deployment.genesis_hash:
        raise DeploymentError(
            f"the node's genesis block {genesis} is not the manifest's {deployment.genesis_hash}: "
            "a different chain with the same chain id (was the node's state reset?)"
        )
    codes = rpc.batch([("eth_getCode", [c.address, "latest"]) for c in deployment.contracts.values()])
    for (name, c), code in zip(deployment.contracts.items(), codes, strict=True):
        if not isinstance(code, str) or code in ("0x", "0x0"):
            raise DeploymentError(f"{name} has no code at {c.address} on chain {chain_id}")


def ensure_deployment(settings: Settings, rpc: HttpRpc) -> Deployment:
    """The manifest's deployment if it is live on the node; otherwise deploy (when allowed)."""
    chain_id, _ = chain_identity(rpc)
    if settings.expected_chain_id is not None and chain_id != settings.expected_chain_id:
        raise ChainMismatchError(settings.expected_chain_id, chain_id)
    path = manifest_path(settings, chain_id)
    if path.exists():
        deployment = Deployment.load(path)
        try:
            check_deployment(deployment, rpc)
            return deployment
        except DeploymentError as exc:
            if not settings.auto_deploy:
                raise
            log.warning("redeploying: %s", exc)
    elif not settings.auto_deploy:
        raise DeploymentError(f"no deployment manifest at {path}; run `esg-ledger deploy`")
    return deploy(settings)


class AdminSender:
    """Sends the admin key's own transactions (deployment, grants), tracking its nonce."""

    def __init__(self, w3: Web3, account: LocalAccount, chain_id: int) -> None:
        self.w3 = w3
        self.account = account
        self.chain_id = chain_id
        self.nonce = int(w3.eth.get_transaction_count(account.address, "pending"))
        self.pending: list[Any] = []

    def _send(self, tx: dict[str, Any]) -> Any:
        tx.update({"from": self.account.address, "nonce": self.nonce, "chainId": self.chain_id})
        signed = self.account.sign_transaction(tx)
        self.nonce += 1
        return self.w3.eth.send_raw_transaction(signed.raw_transaction)

    def _wait(self, tx_hash: Any) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise DeploymentError(f"deployment transaction {tx_hash.to_0x_hex()} reverted")
        return receipt

    def settle(self) -> None:
        """Waits for every transaction sent with `transact` (they are sent without waiting)."""
        pending, self.pending = self.pending, []
        for tx_hash in pending:
            self._wait(tx_hash)

    def create(self, artifact: Artifact, *args: Any) -> DeployedContract:
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._wait(
            self._send(factory.constructor(*args).build_transaction({"from": self.account.address}))
        )
        log.info("deployed %s at %s", artifact.name, receipt["contractAddress"])
        return DeployedContract(
            address=receipt["contractAddress"],
            abi=artifact.abi,
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            block_number=receipt["blockNumber"],
        )

    def transact(self, contract: DeployedContract, function: str, *args: Any) -> None:
        handle = self.w3.eth.contract(address=Web3.to_checksum_address(contract.address), abi=contract.abi)
        call = getattr(handle.functions, function)(*args)
        # sent without waiting, so estimated before earlier grants are mined: give each an ample limit
        self.pending.append(
            self._send(call.build_transaction({"from": self.account.address, "gas": 500_000}))
        )

    def grant(self, contract: DeployedContract, role: str, *accounts: str) -> None:
        for account in accounts:
            self.transact(contract, "grantRole", ROLE[role], account)


def deploy(settings: Settings) -> Deployment:
    """Deploys the suite with the deployer key, wires the roles, and writes the manifest."""
    try:
        return _deploy(settings)
    except requests.RequestException as exc:
        # web3's HTTP errors repeat the node's URL, and a provider's URL holds its API key.
        raise ChainError(
            f"deploying: lost the node at {display_url(settings.rpc)}: {exc.__class__.__name__}"
        ) from None


def _deploy(settings: Settings) -> Deployment:
    artifacts = compile_contracts(settings.project_root, settings.build_dir)
    w3 = Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 60}))
    rpc = HttpRpc(settings.rpc)
    try:
        chain_id, genesis = chain_identity(rpc)
    finally:
        rpc.close()
    admin = settings.deployer()
    d = AdminSender(w3, admin, chain_id)
    # First: every ledger contract trusts it (ERC-2771), fixed at construction, so staff act as
    # themselves through it; it has no owner and holds no role.
    forwarder = d.create(artifacts["StaffForwarder"])
    trusted = forwarder.address
    token = d.create(artifacts["ParticipationToken"], "Participation Point", "ESGP", admin.address, trusted)
    plogging = d.create(
        artifacts["PloggingRegistry"],
        token.address,
        admin.address,
        DEFAULT_PLOGGING_BOUNDS,
        DEFAULT_PLOGGING_REWARD,
        trusted,
    )
    feedback = d.create(
        artifacts["FeedbackBox"],
        token.address,
        admin.address,
        DEFAULT_FEEDBACK_SETTINGS,
        DEFAULT_FEEDBACK_REWARD,
        trusted,
    )
    rewards = d.create(
        artifacts["CommunityRewards"],
        token.address,
        plogging.address,
        feedback.address,
        admin.address,
        trusted,
    )
    batcher = d.create(
        artifacts["ActionBatcher"],
        plogging.address,
        feedback.address,
        rewards.address,
        admin.address,
        trusted,
    )
    enrolments = d.create(artifacts["EnrolmentRegistry"], admin.address, trusted)
    relayers = [r.address for r in settings.relayers()]
    # Wiring, as docs/contracts.md lays it out.
    d.grant(token, "MINTER_ROLE", plogging.address, feedback.address, rewards.address)
    d.grant(token, "BURNER_ROLE", plogging.address, rewards.address)
    d.grant(token, "MOVER_ROLE", rewards.address)
    d.grant(plogging, "POLICY_ROLE", rewards.address)
    d.grant(feedback, "POLICY_ROLE", rewards.address)
    for target in (plogging, feedback, rewards):
        d.grant(target, "RELAYER_ROLE", batcher.address, *relayers)
    d.grant(batcher, "RELAYER_ROLE", *relayers)
    # The ESG team's roles start with the deployer (the city's admin key); hand them on from there.
    d.grant(plogging, "VERIFIER_ROLE", admin.address)
    d.grant(feedback, "REVIEWER_ROLE", admin.address)
    d.grant(feedback, "MODERATOR_ROLE", admin.address)
    d.grant(rewards, "CAMPAIGN_ROLE", admin.address)
    d.grant(rewards, "PARTNER_MANAGER_ROLE", admin.address)
    d.grant(enrolments, "ENROLLER_ROLE", admin.address)
    for category, name in DEFAULT_CATEGORIES.items():
        d.transact(feedback, "setCategory", category, True, name)
    d.settle()
    deployment = Deployment(
        chain_id=chain_id,
        genesis_hash=genesis,
        start_block=forwarder.block_number,
        deployer=admin.address,
        contracts={
            "StaffForwarder": forwarder,
            "ParticipationToken": token,
            "PloggingRegistry": plogging,
            "FeedbackBox": feedback,
            "CommunityRewards": rewards,
            "ActionBatcher": batcher,
            "EnrolmentRegistry": enrolments,
        },
    )
    deployment.save(manifest_path(settings, chain_id))
    return deployment
